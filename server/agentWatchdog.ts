import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { groupAlive } from './groupAlive';
import { watchdogCommand } from './watchdogCommand';
import type { WatchdogCommand } from './watchdogCommand';

/** Options of {@link AgentWatchdog}; the defaults are what the server uses. */
export interface AgentWatchdogOptions {
  /** Decides the script and how agents are tracked (process groups on POSIX). */
  readonly platform?: NodeJS.Platform;
  /** What to run; default {@link watchdogCommand} for `platform` and this process's pid. */
  readonly command?: WatchdogCommand;
  /**
   * How often the groups of exited agents that still have members are checked, in ms
   * (default 1000). A group is guarded until it is empty.
   */
  readonly releasePollMs?: number;
  /** Delay before a watchdog that died is started again, in ms (default 1000). */
  readonly restartDelayMs?: number;
  /** Where warnings go (default: stderr, prefixed `descartes-server: `). */
  readonly log?: (message: string) => void;
}

function defaultLog(message: string): void {
  process.stderr.write(`descartes-server: ${message}\n`);
}

/**
 * Makes the server's agents die with the server, however the server ends: one watchdog
 * process per server (see `watchdogCommand.ts`) holds the list of agents and kills them when
 * the pipe from the server reaches end-of-file, which the kernel causes when the server exits,
 * is killed with SIGKILL, or crashes. Within milliseconds on Linux and macOS.
 *
 * POSIX: each agent leads its own process group (it is spawned detached), and the watchdog
 * kills the whole group, so children and grandchildren go too. The watchdog is detached as
 * well (its own session), so a signal to the server's process group does not take it along.
 * An agent whose main process exits while members of its group live on stays guarded until
 * the group is empty (checked every `releasePollMs`), so even those die with the server.
 * Limits: a process that leaves its group (`setsid`, a daemon that double-forks) is not
 * tracked; a server killed in the microseconds between forking an agent and writing its id
 * to the pipe leaves that agent behind.
 *
 * Windows (untested): the agent process dies with the server by libuv's kill-on-close job;
 * the PowerShell watchdog ends the rest of the tree. An agent is released when its main process
 * exits, so what it leaves running after that is not guarded.
 */
export class AgentWatchdog {
  private readonly platform: NodeJS.Platform;
  private readonly command: WatchdogCommand;
  private readonly releasePollMs: number;
  private readonly restartDelayMs: number;
  private readonly log: (message: string) => void;
  private child: ChildProcess | null = null;
  private starting: Promise<string | null> | null = null;
  private readonly guarded = new Set<number>();
  /** Exited agents whose process group still has members. */
  private readonly lingering = new Set<number>();
  private pollTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private warnedOptional = false;

  constructor(options: AgentWatchdogOptions = {}) {
    this.platform = options.platform ?? process.platform;
    this.command =
      options.command ?? watchdogCommand(this.platform, process.pid, process.env.SystemRoot ?? 'C:\\Windows');
    this.releasePollMs = options.releasePollMs ?? 1000;
    this.restartDelayMs = options.restartDelayMs ?? 1000;
    this.log = options.log ?? defaultLog;
  }

  /** Whether agents must not start without the watchdog (POSIX; on Windows it is best effort). */
  get required(): boolean {
    return this.platform !== 'win32';
  }

  /** OS pid of the watchdog process, or undefined while none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the agent (process group on POSIX) with this id is guarded. */
  isGuarded(id: number): boolean {
    return this.guarded.has(id);
  }

  /** How many agents are guarded (running ones and exited ones whose group still has members). */
  get guardedCount(): number {
    return this.guarded.size;
  }

  /**
   * Starts the watchdog unless it runs, and waits until it does. Call before spawning an agent.
   * @returns null when agents may start; otherwise why not (only when {@link required}: on
   *   Windows a failure is logged once and agents start unguarded)
   */
  async prepare(): Promise<string | null> {
    const problem = await this.ensureRunning();
    if (problem === null || this.required) return problem;
    if (!this.warnedOptional) {
      this.warnedOptional = true;
      this.log(`${problem}; agents' child processes may outlive a crash of the server`);
    }
    return null;
  }

  /**
   * Guards an agent from now on: its process group (POSIX; `id` is the agent's pid, which is
   * its group id) or process tree (Windows) is killed when the server dies. Call in the same
   * tick as the spawn, so the window in which a server crash orphans the agent is minimal.
   */
  guard(id: number): void {
    if (!Number.isSafeInteger(id) || id <= 0 || this.guarded.has(id)) return;
    this.guarded.add(id);
    this.send(`+${id}`);
  }

  /**
   * The agent's main process exited. On POSIX it stays guarded until its process group is
   * empty; on Windows it is released now.
   */
  leaderExited(id: number): void {
    if (!this.guarded.has(id)) return;
    if (this.platform === 'win32' || !groupAlive(id, this.platform)) {
      this.release(id);
      return;
    }
    this.lingering.add(id);
    this.pollTimer ??= setInterval(() => {
      this.pollLingering();
    }, this.releasePollMs).unref();
  }

  /**
   * Ends the watchdog as a server exit would: it kills what is still guarded and exits.
   * Later calls to {@link prepare} fail. For tests and in-process servers.
   */
  close(): void {
    this.closed = true;
    this.stopTimers();
    this.child?.stdin?.end();
  }

  private release(id: number): void {
    this.guarded.delete(id);
    this.lingering.delete(id);
    this.send(`-${id}`);
  }

  private pollLingering(): void {
    for (const id of [...this.lingering]) if (!groupAlive(id, this.platform)) this.release(id);
    if (this.lingering.size === 0 && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  private stopTimers(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.pollTimer = null;
    this.restartTimer = null;
  }

  private send(line: string): void {
    const stdin = this.child?.stdin;
    // Lost when no watchdog runs: the next start replays every guarded id.
    if (stdin && !stdin.destroyed && !stdin.writableEnded) stdin.write(`${line}\n`);
  }

  private ensureRunning(): Promise<string | null> {
    if (this.closed) return Promise.resolve('the agent watchdog is closed');
    if (this.child) return Promise.resolve(null);
    this.starting ??= this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private start(): Promise<string | null> {
    const { file, args } = this.command;
    const win = this.platform === 'win32';
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        stdio: ['pipe', 'ignore', 'ignore'],
        // Its own session/group (POSIX), outside libuv's kill-on-close job (Windows): it
        // must outlive the server to do its job.
        detached: true,
        windowsHide: true,
        // No cwd that pins a mount; on POSIX no variable it does not need (it runs builtins).
        cwd: win ? (process.env.SystemRoot ?? 'C:\\Windows') : '/',
        env: win ? process.env : { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      });
    } catch (error) {
      return Promise.resolve(describe(file, error));
    }
    return new Promise((resolve) => {
      let spawned = false;
      child.on('error', (error) => {
        if (!spawned) resolve(describe(file, error));
      });
      child.once('spawn', () => {
        spawned = true;
        this.child = child;
        // The watchdog must not keep an in-process server's host alive; when that host exits,
        // the pipe closes and the watchdog does its job.
        child.unref();
        (child.stdin as Socket | null)?.unref();
        child.stdin?.on('error', () => undefined); // EPIPE once it died: handled on 'exit'
        child.once('exit', (code, signal) => {
          this.onExit(child, code, signal);
        });
        for (const id of this.guarded) this.send(`+${id}`);
        resolve(null);
      });
    });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.closed) return;
    this.log(
      `agent watchdog (pid ${child.pid ?? '?'}) exited (${signal ?? `code ${code ?? '?'}`}); ${
        this.guarded.size > 0
          ? `starting it again in ${this.restartDelayMs} ms for ${this.guarded.size} agent(s)`
          : 'starting it again with the next agent'
      }`,
    );
    if (this.guarded.size === 0 || this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.ensureRunning().then((problem) => {
        if (problem !== null) this.log(`${problem}; running agents are not guarded`);
      });
    }, this.restartDelayMs);
    this.restartTimer.unref();
  }
}

function describe(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return `cannot start the agent watchdog (${file}): ${code}`;
}

let shared: AgentWatchdog | null = null;

/** The watchdog of this server process (one per process, created on first use). */
export function agentWatchdog(): AgentWatchdog {
  shared ??= new AgentWatchdog();
  return shared;
}
