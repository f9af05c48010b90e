import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type {
  AgentInfo,
  AgentStatus,
  JsonValue,
  PauseMode,
  StatusUpdateType,
  Uuid,
} from '../shared/protocol';
import type { LineStoreLimits } from './config';
import type { EventSink } from './publisher';
import { agentWatchdog } from './agentWatchdog';
import { LineStore } from './lineStore';
import type { LineStream } from './lineStore';
import type { OutputBudget } from './query/outputBudget';
import { toSystemTime } from './time';

/** Signals the protocol's `signal` command may send (payload name → POSIX signal). */
export const SIGNAL_NAMES = {
  interrupt: 'SIGINT',
  terminate: 'SIGTERM',
  kill: 'SIGKILL',
  stop: 'SIGSTOP',
  continue: 'SIGCONT',
} as const satisfies Record<string, NodeJS.Signals>;
export type SignalName = keyof typeof SIGNAL_NAMES;

/** Minimum interval between two `output_available` updates of one agent, in ms. */
export const OUTPUT_AVAILABLE_INTERVAL_MS = 250;

/** What an agent is started with. */
export interface AgentLaunch {
  readonly id: Uuid;
  readonly name: string;
  readonly backend: string;
  readonly task: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly lineLimits: LineStoreLimits;
  /** The server's budget of stored output, which the agent's line store counts against. */
  readonly outputBudget?: OutputBudget;
}

/** The answer of a forwarded custom action (see docs/PROTOCOL.md §4.2). */
export interface ActionResult {
  readonly ok: boolean;
  readonly result: JsonValue;
  readonly error: string | null;
}

export type StartResult =
  { readonly ok: true; readonly agent: AgentProcess } | { readonly ok: false; readonly error: string };

/** An action or command that cannot be carried out; the message is the reply's `error`. */
export class AgentCommandError extends Error {
  override readonly name = 'AgentCommandError';
}

function describeSpawnError(backend: string, program: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return `backend '${backend}': executable '${program}' not found`;
  if (error.code === 'EACCES') {
    return `backend '${backend}': executable '${program}' is not executable (permission denied)`;
  }
  return `backend '${backend}': cannot start '${program}': ${error.code ?? error.message}`;
}

/**
 * One child process with its output store, status and pending actions.
 *
 * On POSIX the child leads its own process group and signals go to the group, so a `sh -c`
 * backend's grandchildren are stopped, resumed and terminated with it. Status changes and
 * output are reported to the {@link EventSink}.
 *
 * Status on exit: code 0 → `completed` (update_type `completed`); another code → `failed`
 * (update_type `error`); killed by a signal, or exited after stop/kill/terminate/shutdown →
 * `terminated` (update_type `terminated`). `data` carries `exit_code` and `signal`.
 * `output_available` is published at most every 250 ms per agent (`data.total_lines`).
 */
export class AgentProcess {
  readonly lines: LineStore;
  private statusValue: AgentStatus = 'running';
  private pauseModeValue: PauseMode | null = null;
  private pausedAtMs: number | null = null;
  private readonly startedAtMs = Date.now();
  private stopRequested = false;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  private markExited: () => void = () => undefined;
  private readonly cursors: Record<LineStream, number> = { stdout: 0, stderr: 0 };
  private readonly actions = new Map<string, (result: ActionResult) => void>();
  private lastOutputNotice = 0;
  private outputTimer: NodeJS.Timeout | null = null;
  private stdinOpen = true;

  private constructor(
    readonly launch: AgentLaunch,
    private readonly child: ChildProcess,
    private readonly events: EventSink,
    private readonly onExit: (agent: AgentProcess) => void,
  ) {
    this.lines = new LineStore(
      launch.lineLimits,
      launch.outputBudget === undefined ? {} : { budget: launch.outputBudget },
    );
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
  }

  /**
   * Starts the child, guarded by the server's agent watchdog (`agentWatchdog.ts`), so that it
   * dies with the server even when the server is killed with SIGKILL, and waits for its
   * `spawn` or `error` event.
   * @returns the running agent, or an error naming the backend and the missing executable, or
   *   saying that the watchdog cannot run (POSIX: agents do not start unguarded)
   */
  static async start(
    launch: AgentLaunch,
    events: EventSink,
    onExit: (agent: AgentProcess) => void,
  ): Promise<StartResult> {
    const [program, ...args] = launch.argv;
    if (program === undefined) return { ok: false, error: `backend '${launch.backend}': empty command line` };
    const watchdog = agentWatchdog();
    const unguarded = await watchdog.prepare();
    if (unguarded !== null) {
      return {
        ok: false,
        error: `backend '${launch.backend}': ${unguarded}; agents are not started without it, since they would outlive a crash of the server`,
      };
    }
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        cwd: launch.cwd,
        env: launch.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        // POSIX: the child leads its own process group (setsid), which signals and the
        // watchdog address as a whole.
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
    } catch (error) {
      return {
        ok: false,
        error: describeSpawnError(launch.backend, program, error as NodeJS.ErrnoException),
      };
    }
    const pid = child.pid;
    if (pid !== undefined) {
      // Same tick as the fork: a server killed now still has the id on the watchdog's pipe.
      watchdog.guard(pid);
      child.once('exit', () => {
        watchdog.leaderExited(pid);
      });
    }
    return new Promise<StartResult>((resolve) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        child.off('spawn', onSpawn);
        resolve({ ok: false, error: describeSpawnError(launch.backend, program, error) });
      };
      const onSpawn = (): void => {
        child.off('error', onError);
        const agent = new AgentProcess(launch, child, events, onExit);
        agent.attach();
        resolve({ ok: true, agent });
      };
      child.once('error', onError);
      child.once('spawn', onSpawn);
    });
  }

  private attach(): void {
    const { child } = this;
    child.on('error', (error) => {
      process.stderr.write(`descartes-server: agent ${this.id}: ${error.message}\n`);
    });
    child.stdin?.on('error', () => {
      this.stdinOpen = false; // EPIPE after the child closed its stdin: reported on the next write
    });
    child.stdin?.on('close', () => {
      this.stdinOpen = false;
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      readable?.on('data', (chunk: Buffer) => {
        this.onOutput(stream, chunk);
        // One chunk per stream per event-loop turn: a flooding child then cannot starve the
        // command socket (it blocks on its full pipe instead).
        readable.pause();
        setImmediate(() => readable.resume());
      });
      readable?.on('error', () => undefined);
      readable?.on('end', () => {
        this.afterLines(stream, this.lines.flush(stream));
      });
    }
    child.once('exit', (code, signal) => {
      // Wait briefly for the pipes to drain so "completed" comes after the last line; a
      // grandchild that keeps the pipes open must not delay the status forever.
      const finish = (): void => {
        clearTimeout(timer);
        this.finishExit(code, signal);
      };
      const timer = setTimeout(finish, 500);
      child.once('close', finish);
    });
    this.events.status(this.id, 'status_changed', 'running', 'agent started', { pid: child.pid ?? null });
  }

  private onOutput(stream: LineStream, chunk: Buffer): void {
    // Lines are decoded only while an action waits for its result line (decoding costs).
    this.afterLines(stream, this.lines.append(stream, chunk, stream === 'stdout' && this.actions.size > 0));
    this.events.log(this.id, stream, chunk);
    this.noteOutput();
  }

  private afterLines(stream: LineStream, lines: string[]): void {
    if (stream !== 'stdout' || this.actions.size === 0) return;
    for (const line of lines) {
      if (!line.startsWith('{') || !line.includes('action_result')) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null) continue;
      const msg = parsed as Record<string, unknown>;
      if (msg.type !== 'action_result' || typeof msg.id !== 'string') continue;
      const settle = this.actions.get(msg.id);
      if (!settle) continue;
      this.actions.delete(msg.id);
      const error =
        msg.error === undefined || msg.error === null
          ? null
          : typeof msg.error === 'string'
            ? msg.error
            : JSON.stringify(msg.error);
      settle({ ok: msg.ok === true, result: (msg.result ?? null) as JsonValue, error });
    }
  }

  private noteOutput(): void {
    if (this.outputTimer) return;
    const wait = this.lastOutputNotice + OUTPUT_AVAILABLE_INTERVAL_MS - Date.now();
    if (wait <= 0) this.publishOutputNotice();
    else
      this.outputTimer = setTimeout(() => {
        this.outputTimer = null;
        this.publishOutputNotice();
      }, wait);
  }

  private publishOutputNotice(): void {
    this.lastOutputNotice = Date.now();
    this.events.status(this.id, 'output_available', this.statusValue, null, {
      total_lines: this.lines.endSeq,
    });
  }

  private finishExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    if (this.outputTimer) {
      clearTimeout(this.outputTimer);
      this.outputTimer = null;
      this.publishOutputNotice();
    }
    let status: AgentStatus;
    let update: StatusUpdateType;
    let message: string;
    if (signal !== null || this.stopRequested) {
      status = 'terminated';
      update = 'terminated';
      message = signal !== null ? `terminated by ${signal}` : `stopped (exit code ${code ?? 'unknown'})`;
    } else if (code === 0) {
      status = 'completed';
      update = 'completed';
      message = 'exited with code 0';
    } else {
      status = 'failed';
      update = 'error';
      message = `exited with code ${code ?? 'unknown'}`;
    }
    this.statusValue = status;
    this.pauseModeValue = null;
    this.pausedAtMs = null;
    for (const [, settle] of this.actions) {
      settle({ ok: false, result: null, error: `agent exited (${status}) before answering the action` });
    }
    this.actions.clear();
    this.events.status(this.id, update, status, message, { exit_code: code, signal });
    this.markExited();
    this.onExit(this);
  }

  get id(): Uuid {
    return this.launch.id;
  }

  get status(): AgentStatus {
    return this.statusValue;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process has not exited yet. */
  get active(): boolean {
    return this.exitInfo === null;
  }

  /** The environment the child was started with. */
  get env(): Readonly<Record<string, string>> {
    return this.launch.env;
  }

  /** The protocol's view of this agent. */
  info(): AgentInfo {
    return {
      id: this.id,
      name: this.launch.name,
      status: this.statusValue,
      model_backend: this.launch.backend,
      started_at: toSystemTime(this.startedAtMs),
      task: this.launch.task,
      paused_at: this.pausedAtMs === null ? null : toSystemTime(this.pausedAtMs),
      pause_mode: this.pauseModeValue,
      attach_info: null,
    };
  }

  /** Resolves when the process has exited (or after `timeoutMs`). @returns whether it exited */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.active) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, timeoutMs);
    });
    const result = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  private assertActive(what: string): void {
    if (!this.active)
      throw new AgentCommandError(
        `agent ${this.id} has already exited (${this.statusValue}): cannot ${what}`,
      );
  }

  /**
   * Sends a POSIX signal to the agent's process group.
   * @throws AgentCommandError when the agent exited or the platform lacks the signal
   */
  sendSignal(signal: NodeJS.Signals): void {
    this.assertActive(`send ${signal}`);
    if (process.platform === 'win32' && signal !== 'SIGKILL' && signal !== 'SIGTERM' && signal !== 'SIGINT') {
      throw new AgentCommandError(`signal ${signal} does not exist on Windows`);
    }
    if (signal === 'SIGTERM' || signal === 'SIGKILL' || signal === 'SIGINT') {
      if (signal !== 'SIGINT') this.stopRequested = true;
    }
    const pid = this.child.pid;
    try {
      if (pid !== undefined && process.platform !== 'win32') process.kill(-pid, signal);
      else this.child.kill(signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      this.child.kill(signal);
    }
    if (signal === 'SIGSTOP') this.setPaused('forced');
    if (signal === 'SIGCONT' && this.pauseModeValue === 'forced') this.setRunning();
    if (signal === 'SIGTERM' && this.pauseModeValue === 'forced') {
      // A stopped process only acts on SIGTERM once it runs again.
      this.sendSignal('SIGCONT');
    }
  }

  /** Pauses: SIGSTOP when forced, else the cooperative stdin line. @throws AgentCommandError */
  async pause(force: boolean): Promise<void> {
    this.assertActive('pause');
    if (this.statusValue === 'paused' && (this.pauseModeValue === 'forced' || !force)) return;
    if (force) this.sendSignal('SIGSTOP');
    else {
      await this.writeStdin('{"type":"pause","action":"pause"}\n');
      this.setPaused('cooperative');
    }
  }

  /** Resumes the way the agent was paused (SIGCONT after a forced pause). @throws AgentCommandError */
  async resume(force: boolean): Promise<void> {
    this.assertActive('resume');
    if (this.statusValue !== 'paused' && !force) return;
    if (force || this.pauseModeValue === 'forced') {
      this.sendSignal('SIGCONT');
      this.setRunning();
    } else {
      await this.writeStdin('{"type":"resume","action":"resume"}\n');
      this.setRunning();
    }
  }

  private setPaused(mode: PauseMode): void {
    if (this.statusValue === 'paused' && this.pauseModeValue === mode) return;
    this.statusValue = 'paused';
    this.pauseModeValue = mode;
    this.pausedAtMs = Date.now();
    this.events.status(this.id, 'status_changed', 'paused', `paused (${mode})`, { pause_mode: mode });
  }

  private setRunning(): void {
    if (this.statusValue !== 'paused') return;
    this.statusValue = 'running';
    this.pauseModeValue = null;
    this.pausedAtMs = null;
    this.events.status(this.id, 'status_changed', 'running', 'resumed');
  }

  /**
   * Writes raw UTF-8 to the child's stdin and waits until it is handed to the OS.
   * @param close end stdin afterwards (the child then sees EOF)
   * @throws AgentCommandError when the agent exited or its stdin is closed
   */
  async writeStdin(text: string, close = false): Promise<number> {
    this.assertActive('write to stdin');
    const stdin = this.child.stdin;
    if (!stdin || !this.stdinOpen || stdin.destroyed || stdin.writableEnded) {
      throw new AgentCommandError(`agent ${this.id}: stdin is closed`);
    }
    const bytes = Buffer.from(text, 'utf8');
    await new Promise<void>((resolve, reject) => {
      stdin.write(bytes, (error) => {
        if (error) reject(new AgentCommandError(`agent ${this.id}: cannot write to stdin: ${error.message}`));
        else resolve();
      });
    });
    if (close) {
      stdin.end();
      this.stdinOpen = false;
    }
    return bytes.length;
  }

  /**
   * The next unread line of a stream (a cursor per stream, separate from output queries).
   * @returns null when every stored line of that stream was read
   */
  readLine(stream: LineStream): string | null {
    const found = this.lines.nextLine(stream, this.cursors[stream]);
    if (!found) {
      this.cursors[stream] = this.lines.endSeq;
      return null;
    }
    this.cursors[stream] = found.next;
    return found.line;
  }

  /**
   * Forwards a custom action as one stdin line and waits for its `action_result` line.
   * @returns the result, or null when `timeoutMs` passed first
   * @throws AgentCommandError when the agent exited or its stdin is closed
   */
  async forwardAction(
    requestId: string,
    action: string,
    params: JsonValue,
    timeoutMs: number,
  ): Promise<ActionResult | null> {
    this.assertActive(`run action '${action}'`);
    if (this.actions.has(requestId))
      throw new AgentCommandError(`action ${requestId} is already waiting for its result`);
    const answer = new Promise<ActionResult>((resolve) => {
      this.actions.set(requestId, resolve);
    });
    try {
      await this.writeStdin(
        `${JSON.stringify({ type: 'action', id: requestId, action, params }, jsonReplacer)}\n`,
      );
    } catch (error) {
      this.actions.delete(requestId);
      throw error;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        resolve(null);
      }, timeoutMs);
    });
    const result = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    if (result === null) this.actions.delete(requestId);
    return result;
  }

  /** Marks the agent as being stopped by the server (its exit then counts as terminated). */
  markStopping(): void {
    this.stopRequested = true;
  }
}

/** JSON.stringify cannot write bigint: write it as a number (precision is the agent's problem). */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
