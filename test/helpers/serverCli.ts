import { spawn } from 'node:child_process';
import { REPO_ROOT } from './serverProcess';

/** How a run of the server's command line ended. */
export interface CliRun {
  /** Exit code (null when it was stopped by a signal after its ready line). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `server/cli.ts` with `args` (a key subcommand, or a server that must fail to start)
 * and collects its output. With `untilReady`, a server that prints its ready line is stopped
 * (SIGTERM) right after, so its startup output can be checked.
 * @throws Error when it neither exits nor gets ready within `timeoutMs` (it is killed)
 */
export function runServerCli(
  args: readonly string[],
  options: { untilReady?: boolean; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (options.untilReady === true && stdout.includes('"event":"ready"')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server CLI ${args.join(' ')} did not finish in time\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
