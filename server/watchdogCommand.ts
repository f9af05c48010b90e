/**
 * The watchdog process that ends a server's agents when the server is gone, whatever way it
 * went (SIGKILL, a crash, an OOM kill). It reads lines from a pipe whose only write end the
 * server holds: `+<id>` guards an agent, `-<id>` stops guarding it. When the server dies the
 * kernel closes that write end, the watchdog reads end-of-file and kills every agent still
 * guarded, then exits. It runs a system shell, not `process.execPath`, because under
 * Electron's `utilityProcess` that is the Electron binary, which cannot run as Node
 * (RunAsNode is fused off).
 */

/** The program and arguments that run the watchdog. */
export interface WatchdogCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** `$0` of the POSIX watchdog: how it shows in `ps` (followed by the server's pid). */
export const WATCHDOG_NAME = 'descartes-agent-watchdog';

/**
 * POSIX `sh` (dash, bash, busybox) script. Each id is a process group id: agents run
 * detached (`setsid`), so the agent leads a group that holds its children and grandchildren.
 * Only builtins run (`read`, `case`, `kill`), so it needs no PATH and forks nothing. It ignores
 * SIGHUP and SIGINT, which a terminal sends when the operator closes it or presses Ctrl-C;
 * the server handles those itself and the watchdog must stay until the server is gone.
 * Groups are killed with SIGKILL at once: a server that crashed can no longer collect the
 * agents' output, and a grace period would leave a window in which an emptied group's id
 * could be reused by a stranger.
 */
export const POSIX_WATCHDOG_SCRIPT = `trap '' HUP INT
groups=' '
while IFS= read -r line; do
  id=\${line#?}
  case $id in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) case $groups in *" $id "*) ;; *) groups="$groups$id " ;; esac ;;
    -*) case $groups in *" $id "*) groups="\${groups%% $id *} \${groups#* $id }" ;; esac ;;
  esac
done
for id in $groups; do kill -s KILL -- "-$id" 2>/dev/null; done
exit 0
`;

/**
 * Windows PowerShell script (untested: written for Windows PowerShell 5.1, not run in CI).
 * Each id is an agent's process id. Agents are already in libuv's kill-on-close job, so the
 * agent process itself dies with the server; its children do not (libuv lets them break away),
 * and `taskkill /T` cannot walk a tree whose root is already dead. So at end-of-file the
 * script walks the tree itself from a snapshot (`ParentProcessId` outlives the parent), keeps
 * only processes that started after their parent (Windows reuses ids quickly), and stops them.
 */
export const WINDOWS_WATCHDOG_SCRIPT = `$ErrorActionPreference = 'SilentlyContinue'
$roots = @{}
while ($true) {
  $line = [Console]::In.ReadLine()
  if ($null -eq $line) { break }
  if ($line -match '^\\+(\\d+)$') {
    $id = [int]$Matches[1]
    $p = Get-Process -Id $id
    if ($p) { $roots[$id] = $p.StartTime }
  } elseif ($line -match '^-(\\d+)$') {
    $roots.Remove([int]$Matches[1])
  }
}
if ($roots.Count -eq 0) { exit 0 }
$procs = @(Get-CimInstance Win32_Process | ForEach-Object {
  [pscustomobject]@{ Id = [int]$_.ProcessId; Parent = [int]$_.ParentProcessId; Started = $_.CreationDate }
})
$live = @{}
foreach ($p in $procs) { $live[$p.Id] = $p }
$doomed = [System.Collections.Generic.List[object]]::new()
$seen = @{}
foreach ($id in @($roots.Keys)) {
  $doomed.Add([pscustomobject]@{ Id = $id; Parent = 0; Started = $roots[$id] })
  $seen[$id] = $true
}
for ($i = 0; $i -lt $doomed.Count; $i++) {
  $node = $doomed[$i]
  $now = $live[$node.Id]
  $before = [datetime]::MaxValue
  if ($now -and $now.Started -and $now.Started -gt $node.Started.AddSeconds(1)) { $before = $now.Started }
  foreach ($p in $procs) {
    if ($p.Parent -eq $node.Id -and -not $seen.ContainsKey($p.Id) -and $p.Started -ge $node.Started -and $p.Started -lt $before) {
      $doomed.Add($p)
      $seen[$p.Id] = $true
    }
  }
}
foreach ($node in $doomed) {
  $now = $live[$node.Id]
  if ($now -and $now.Started -and [math]::Abs(($now.Started - $node.Started).TotalSeconds) -lt 1) { Stop-Process -Id $node.Id -Force }
}
exit 0
`;

/**
 * How to run the watchdog on a platform.
 * @param serverPid shown in the POSIX command line (`descartes-agent-watchdog <pid>`), so an
 *   operator (or a test) can tell which server a watchdog belongs to
 * @param systemRoot Windows directory (`%SystemRoot%`), where `powershell.exe` lives
 */
export function watchdogCommand(
  platform: NodeJS.Platform,
  serverPid: number,
  systemRoot = 'C:\\Windows',
): WatchdogCommand {
  if (platform === 'win32') {
    // -EncodedCommand (UTF-16LE, base64) needs no quoting and leaves stdin to the script.
    const encoded = Buffer.from(
      `# ${WATCHDOG_NAME} ${serverPid}\n${WINDOWS_WATCHDOG_SCRIPT}`,
      'utf16le',
    ).toString('base64');
    return {
      file: `${systemRoot}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`,
      args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', encoded],
    };
  }
  return { file: '/bin/sh', args: ['-c', POSIX_WATCHDOG_SCRIPT, WATCHDOG_NAME, String(serverPid)] };
}
