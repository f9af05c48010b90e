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
import type { AgentDetails, AgentEndReason, PendingRequest } from '../shared/domain/agentDetails';
import type { LineStoreLimits, PauseStyle } from './config';
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
  /** How the backend pauses (default `signal`: SIGSTOP). */
  readonly pause?: PauseStyle;
  /** Told of every stored line and of the status changes a record keeps (see `AgentRecords`). */
  readonly journal?: AgentJournal;
}

/** Where a running agent's record and output go as they happen (the state dir's records). */
export interface AgentJournal {
  /** A line was stored: `src[start, end)`, 0 = stdout, 1 = stderr. Must not block. */
  line(tag: 0 | 1, src: Uint8Array, start: number, end: number): void;
  /**
   * Lines were stored as they came: `src[start, end)` is `count` lines, each followed by its
   * `\n`, none with a `\r` before it (see `LineStoreOptions.onLines`). Must not block.
   */
  lines(tag: 0 | 1, src: Uint8Array, start: number, end: number, count: number): void;
  /** The agent's facts changed (it started or ended). */
  facts(agent: AgentProcess): void;
}

/** What a pause or resume request did (docs/PROTOCOL.md §4.1). */
export interface PauseOutcome {
  /** `forced`: SIGSTOP/SIGCONT, done at once; `cooperative`: asked on stdin. */
  readonly mode: PauseMode;
  /** The request waiting for the agent's acknowledgement, or null when it took effect. */
  readonly pending: PendingRequest | null;
}

/** The state a restored (already ended) agent comes back with; see `AgentRecords`. */
export interface RestoredFacts {
  readonly pid: number | null;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly status: AgentStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly endReason: AgentEndReason;
}

/** Stdout lines a cooperative agent acknowledges a pause or resume with (docs/PROTOCOL.md §4.1). */
export const PAUSE_ACKS = { paused: '{"type":"paused"}', resumed: '{"type":"resumed"}' } as const;

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
  private readonly startedAtMs: number;
  private endedAtMs: number | null = null;
  private endReasonValue: AgentEndReason | null = null;
  private pendingValue: PendingRequest | null = null;
  private stopRequested = false;
  /** Set when the server's own shutdown stops the agent: its end is not an operator's doing. */
  private stoppedByShutdown = false;
  /** A terminating signal came from the server (an operator's request or the shutdown). */
  private signalledByServer = false;
  private exitInfo: { code: number | null; signal: string | null } | null = null;
  private readonly exited: Promise<void>;
  private markExited: () => void = () => undefined;
  private readonly cursors: Record<LineStream, number> = { stdout: 0, stderr: 0 };
  private readonly actions = new Map<string, (result: ActionResult) => void>();
  private lastOutputNotice = 0;
  private outputTimer: NodeJS.Timeout | null = null;
  private stdinOpen = true;

  private constructor(
    readonly launch: AgentLaunch,
    private readonly child: ChildProcess | null,
    private readonly events: EventSink,
    private readonly onExit: (agent: AgentProcess) => void,
    restored: { readonly facts: RestoredFacts; readonly lines: LineStore } | null = null,
  ) {
    const journal = launch.journal;
    this.lines =
      restored?.lines ??
      new LineStore(launch.lineLimits, {
        ...(launch.outputBudget === undefined ? {} : { budget: launch.outputBudget }),
        ...(journal === undefined
          ? {}
          : {
              onLine: (tag, src, start, end) => {
                journal.line(tag, src, start, end);
              },
              onLines: (tag, src, start, end, count) => {
                journal.lines(tag, src, start, end, count);
              },
            }),
      });
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
    if (restored === null) {
      this.startedAtMs = Date.now();
      return;
    }
    const { facts } = restored;
    this.startedAtMs = facts.startedAtMs;
    this.endedAtMs = facts.endedAtMs;
    this.statusValue = facts.status;
    this.exitInfo = { code: facts.exitCode, signal: facts.signal };
    this.endReasonValue = facts.endReason;
    this.restoredPid = facts.pid;
    this.markExited();
  }

  private restoredPid: number | null = null;

  /**
   * An agent of an earlier run of this server, read back from the state dir: ended, with its
   * output, answering list, queries and `agent_details`; commands that need the process
   * fail with "has already exited".
   */
  static restore(
    launch: AgentLaunch,
    facts: RestoredFacts,
    lines: LineStore,
    events: EventSink,
  ): AgentProcess {
    return new AgentProcess(launch, null, events, () => undefined, { facts, lines });
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
    const child = this.process();
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
    this.launch.journal?.facts(this);
  }

  /** The child; only agents restored from records have none, and they never get here (assertActive). */
  private process(): ChildProcess {
    if (this.child === null)
      throw new AgentCommandError(`agent ${this.id} has no process (restored from records)`);
    return this.child;
  }

  /** Whether stdout lines must be decoded: an action result or a pause acknowledgement is awaited. */
  private get awaitingLine(): boolean {
    return this.actions.size > 0 || this.pendingValue !== null;
  }

  private onOutput(stream: LineStream, chunk: Buffer): void {
    // Lines are decoded only while an action result or an acknowledgement is awaited (decoding costs).
    this.afterLines(stream, this.lines.append(stream, chunk, stream === 'stdout' && this.awaitingLine));
    this.events.log(this.id, stream, chunk);
    this.noteOutput();
  }

  private afterLines(stream: LineStream, lines: string[]): void {
    if (stream !== 'stdout' || !this.awaitingLine) return;
    for (const line of lines) {
      if (this.pendingValue !== null && this.takeAck(line)) continue;
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

  /** Applies a pause acknowledgement line. @returns whether `line` was one */
  private takeAck(line: string): boolean {
    if (line.trim() === PAUSE_ACKS.paused) {
      if (this.pendingValue === 'pause') this.pendingValue = null;
      if (!this.setPaused('cooperative')) this.publishState('pause acknowledged');
      return true;
    }
    if (line.trim() === PAUSE_ACKS.resumed) {
      if (this.pendingValue === 'resume') this.pendingValue = null;
      if (!this.setRunning()) this.publishState('resume acknowledged');
      return true;
    }
    return false;
  }

  /** A `status_changed` update saying what is pending (the status itself did not change). */
  private publishState(message: string): void {
    this.events.status(this.id, 'status_changed', this.statusValue, message, {
      pending: this.pendingValue,
      pause_mode: this.pauseModeValue ?? (this.pendingValue === null ? null : 'cooperative'),
    });
  }

  private finishExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    this.endedAtMs = Date.now();
    this.pendingValue = null;
    this.endReasonValue = this.stoppedByShutdown
      ? 'shutdown'
      : this.stopRequested || (signal !== null && this.signalledByServer)
        ? 'operator'
        : signal !== null
          ? 'signal'
          : code === 0
            ? 'completed'
            : 'failed';
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
    this.launch.journal?.facts(this);
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
    return this.child?.pid ?? this.restoredPid ?? undefined;
  }

  /** How the agent pauses (`signal`: SIGSTOP). */
  get pauseStyle(): PauseStyle {
    return this.launch.pause ?? 'signal';
  }

  /** The process facts `agent_details` answers with (docs/PROTOCOL.md §4.2). */
  details(): AgentDetails {
    const exit = this.exitInfo;
    return {
      agentId: this.id,
      pid: this.pid ?? null,
      startedAtMs: this.startedAtMs,
      endedAtMs: this.endedAtMs,
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      endReason: this.endReasonValue,
      pendingRequest: this.pendingValue,
    };
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
      this.signalledByServer = true;
      if (signal !== 'SIGINT') this.stopRequested = true;
    }
    const child = this.process();
    const pid = child.pid;
    try {
      if (pid !== undefined && process.platform !== 'win32') process.kill(-pid, signal);
      else child.kill(signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      child.kill(signal);
    }
    if (signal === 'SIGSTOP') this.setPaused('forced');
    if (signal === 'SIGCONT' && this.pauseModeValue === 'forced') this.setRunning();
    if (signal === 'SIGTERM' && this.pauseModeValue === 'forced') {
      // A stopped process only acts on SIGTERM once it runs again.
      this.sendSignal('SIGCONT');
    }
  }

  /**
   * Pauses, truthfully (docs/PROTOCOL.md §4.1): with `force`, or when the backend has no
   * cooperative pause, the process group gets SIGSTOP and the status is `paused` at once;
   * otherwise the agent gets `{"type":"pause","action":"pause"}` on stdin and the status stays
   * `running` until it prints `{"type":"paused"}`.
   * @throws AgentCommandError when the agent exited, its stdin is closed, or SIGSTOP is needed
   *   on Windows (which has none)
   */
  async pause(force: boolean): Promise<PauseOutcome> {
    this.assertActive('pause');
    if (this.statusValue === 'paused' && (this.pauseModeValue === 'forced' || !force)) {
      return { mode: this.pauseModeValue ?? 'forced', pending: this.pendingValue };
    }
    if (force || this.pauseStyle === 'signal') {
      if (process.platform === 'win32') {
        throw new AgentCommandError(
          `pause is not supported on Windows for backend '${this.launch.backend}': Windows has no SIGSTOP${force ? '' : ', and the backend does not declare pause: "cooperative" in the server config'}`,
        );
      }
      this.pendingValue = null;
      this.sendSignal('SIGSTOP');
      return { mode: 'forced', pending: null };
    }
    if (this.pendingValue !== 'pause') {
      await this.writeStdin('{"type":"pause","action":"pause"}\n');
      this.pendingValue = 'pause';
      this.publishState('pause requested');
    }
    return { mode: 'cooperative', pending: 'pause' };
  }

  /**
   * Resumes the way the agent was paused: SIGCONT after a forced pause (`running` at once);
   * a cooperative agent (paused, or asked to pause) gets `{"type":"resume","action":"resume"}`
   * and stays as it is until it prints `{"type":"resumed"}`. `force` on an agent that is
   * not paused still sends SIGCONT.
   * @throws AgentCommandError when the agent exited or its stdin is closed
   */
  async resume(force: boolean): Promise<PauseOutcome | null> {
    this.assertActive('resume');
    if (this.pauseModeValue === 'forced') {
      this.sendSignal('SIGCONT');
      this.setRunning();
      return { mode: 'forced', pending: null };
    }
    const cooperative = this.pauseModeValue === 'cooperative' || this.pendingValue === 'pause';
    if (cooperative) {
      if (this.pendingValue !== 'resume') {
        await this.writeStdin('{"type":"resume","action":"resume"}\n');
        this.pendingValue = 'resume';
        this.publishState('resume requested');
      }
      return { mode: 'cooperative', pending: 'resume' };
    }
    if (force) this.sendSignal('SIGCONT');
    return null;
  }

  /** @returns whether the status changed (and was published) */
  private setPaused(mode: PauseMode): boolean {
    if (this.statusValue === 'paused' && this.pauseModeValue === mode) return false;
    this.statusValue = 'paused';
    this.pauseModeValue = mode;
    this.pausedAtMs = Date.now();
    this.events.status(this.id, 'status_changed', 'paused', `paused (${mode})`, {
      pause_mode: mode,
      pending: this.pendingValue,
    });
    return true;
  }

  /** @returns whether the status changed (and was published) */
  private setRunning(): boolean {
    if (this.statusValue !== 'paused') return false;
    this.statusValue = 'running';
    this.pauseModeValue = null;
    this.pausedAtMs = null;
    this.events.status(this.id, 'status_changed', 'running', 'resumed', { pending: this.pendingValue });
    return true;
  }

  /**
   * Writes raw UTF-8 to the child's stdin and waits until it is handed to the OS.
   * @param close end stdin afterwards (the child then sees EOF)
   * @throws AgentCommandError when the agent exited or its stdin is closed
   */
  async writeStdin(text: string, close = false): Promise<number> {
    this.assertActive('write to stdin');
    const stdin = this.process().stdin;
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

  /**
   * Marks the agent as being stopped by the server's shutdown: its exit counts as terminated,
   * with end reason `shutdown` (not `operator`: nobody asked for this agent to end).
   */
  markStopping(): void {
    this.stopRequested = true;
    this.stoppedByShutdown = true;
  }
}

/** JSON.stringify cannot write bigint: write it as a number (precision is the agent's problem). */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
