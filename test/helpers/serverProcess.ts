import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from './processes';
import { createTempDir } from './tempDir';
import type { TempDir } from './tempDir';
import { TEST_CLIENT_KEYS, type CurveClient } from './testKeys';

/** Repository root: the agent server runs with it as cwd (fixture paths and `tsx` resolve from it). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Most stdout/stderr characters kept per stream (older output is dropped first). */
const MAX_CAPTURE_CHARS = 256 * 1024;

/** Options for {@link startServerProcess} and {@link spawnServerProcess}. */
export interface ServerProcessOptions {
  /** Port of the ROUTER command socket on 127.0.0.1. */
  port: number;
  /** Port of the PUB socket on 127.0.0.1; defaults to `port + 1`. */
  pubPort?: number;
  /** Extra CLI arguments, appended last (e.g. `['--heartbeat-ms', '200']`). */
  args?: string[];
  /** Written to a temp JSON file and passed as `--config FILE`. */
  config?: Record<string, unknown>;
  /** Passed as `--state-dir DIR`; default a fresh temp dir (never the user's own state dir). */
  stateDir?: string;
  /** Run plain (`--insecure`) instead of CURVE. */
  insecure?: boolean;
  /**
   * A client key to allow (`--allow-client`); default this test process's key
   * (`TEST_CLIENT_KEYS`), null for none. Ignored when `insecure`.
   */
  allowClient?: string | null;
  /** Passed as `--exec-log FILE`. */
  execLog?: string;
  /** Extra environment variables for the server (merged over this process's env). */
  env?: Record<string, string>;
  /** How long {@link startServerProcess} waits for the ready line, in ms (default 30 000). */
  readyTimeoutMs?: number;
}

/** The one JSON line the server prints on stdout once both sockets are bound. */
export interface ReadyEvent {
  event: 'ready';
  bind: string;
  pub: string;
  server_id: string;
  pid: number;
  security: 'curve' | 'none';
  /** The server's public key (Z85); null when insecure. */
  public_key: string | null;
}

/** How the server process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ServerProcess>();
const started: ServerProcess[] = [];

/**
 * A running `server/cli.ts` process. It is started as `node --import tsx server/cli.ts` rather
 * than through the `tsx` wrapper binary: the wrapper runs the script in a grandchild, so
 * `kill()` (SIGKILL) would hit only the wrapper and leave the real server holding its ports.
 */
export class ServerProcess {
  /** Command endpoint, `tcp://127.0.0.1:<port>`. */
  readonly bind: string;
  /** Event endpoint, `tcp://127.0.0.1:<pubPort>`. */
  readonly pub: string;
  readonly port: number;
  readonly pubPort: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Set once the ready line has been seen. */
  ready: ReadyEvent | null = null;
  /** The state dir the server runs with. */
  readonly stateDir: string;

  private readonly child: ChildProcess;
  private stdoutText = '';
  private stderrText = '';
  private exitInfo: ExitInfo | null = null;
  private readyWaiters: ((event: ReadyEvent) => void)[] = [];

  /** Use {@link spawnServerProcess} or {@link startServerProcess}. */
  constructor(
    opts: ServerProcessOptions,
    configPath: string | null,
    private readonly scratch: TempDir,
  ) {
    this.port = opts.port;
    this.pubPort = opts.pubPort ?? opts.port + 1;
    this.bind = `tcp://127.0.0.1:${this.port}`;
    this.pub = `tcp://127.0.0.1:${this.pubPort}`;
    this.stateDir = opts.stateDir ?? join(scratch.path, 'state');
    const argv = ['--import', 'tsx', 'server/cli.ts', '--bind', this.bind, '--pub', this.pub];
    if (configPath !== null) argv.push('--config', configPath);
    argv.push('--state-dir', this.stateDir);
    if (opts.insecure === true) argv.push('--insecure');
    else {
      const allow = opts.allowClient === undefined ? TEST_CLIENT_KEYS.publicKey : opts.allowClient;
      if (allow !== null) argv.push('--allow-client', allow);
    }
    if (opts.execLog !== undefined) argv.push('--exec-log', opts.execLog);
    argv.push(...(opts.args ?? []));
    this.child = spawn(process.execPath, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stderr?.setEncoding('utf8');
    let pending = '';
    this.child.stdout?.on('data', (chunk: string) => {
      this.stdoutText = capped(this.stdoutText + chunk);
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        this.onStdoutLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    });
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderrText = capped(this.stderrText + chunk);
    });
    live.add(this);
    started.push(this);
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('exit', (code, signal) => {
        // 'exit' can come before the last stdout/stderr chunks: wait for 'close' (all pipes
        // drained), but not forever, since an orphaned grandchild may still hold a pipe.
        const settle = (): void => {
          if (this.exitInfo !== null) return;
          this.exitInfo = { code, signal };
          live.delete(this);
          void this.scratch.remove();
          resolve(this.exitInfo);
        };
        this.child.once('close', settle);
        setTimeout(settle, 500);
      });
      this.child.once('error', (err) => {
        this.stderrText += `\n[test harness] spawn failed: ${err.message}\n`;
        this.exitInfo = { code: null, signal: null };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  /**
   * How a test client reaches this server: its public key (with the test process's key pair,
   * which the harness allows by default), or null when it runs `--insecure`.
   * @throws Error before the ready line
   */
  get curve(): CurveClient | null {
    if (this.ready === null) throw new Error('the server is not ready yet: no public key known');
    return this.ready.public_key === null ? null : { serverKey: this.ready.public_key };
  }

  /** OS pid of the server process (undefined only when spawning failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Exit status, or null while it runs. */
  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  /** Everything the server wrote to stdout so far (last 256 KiB). */
  stdout(): string {
    return this.stdoutText;
  }

  /** Everything the server wrote to stderr so far (last 256 KiB). */
  stderr(): string {
    return this.stderrText;
  }

  /** A block of text describing this process, for failure output. */
  diagnostics(): string {
    const exit =
      this.exitInfo === null ? 'running' : `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}`;
    return `--- agent server ${this.bind} pid=${this.pid} (${exit}) stderr ---\n${this.stderrText}\n--- stdout ---\n${this.stdoutText}\n--- end ---`;
  }

  /**
   * Waits for the ready line.
   * @throws Error (with the server's stderr) when it exits first or `timeoutMs` passes
   */
  waitReady(timeoutMs = 30_000): Promise<ReadyEvent> {
    if (this.ready !== null) return Promise.resolve(this.ready);
    return new Promise<ReadyEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`agent server not ready after ${timeoutMs} ms\n${this.diagnostics()}`));
      }, timeoutMs);
      this.readyWaiters.push((event) => {
        clearTimeout(timer);
        resolve(event);
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`agent server exited before it was ready\n${this.diagnostics()}`));
      });
    });
  }

  /**
   * Sends `signal` and waits for the exit; sends SIGKILL when it has not exited after
   * `timeoutMs` ms. Resolves with how it exited (at once when it already has).
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitInfo> {
    if (this.exitInfo !== null) return this.exitInfo;
    return stopChild(this.child, this.exited, signal, timeoutMs);
  }

  /** SIGKILL, then waits for the exit. */
  kill(): Promise<ExitInfo> {
    return this.stop('SIGKILL');
  }

  private onStdoutLine(line: string): void {
    if (this.ready !== null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    if (isReadyEvent(parsed)) {
      this.ready = parsed;
      for (const waiter of this.readyWaiters) waiter(parsed);
      this.readyWaiters = [];
    }
  }
}

function isReadyEvent(value: unknown): value is ReadyEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.event === 'ready';
}

function capped(text: string): string {
  return text.length > MAX_CAPTURE_CHARS ? text.slice(text.length - MAX_CAPTURE_CHARS) : text;
}

/** Spawns the server without waiting for it to be ready (for tests that expect it to fail). */
export async function spawnServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const scratch = await createTempDir('descartes-server-');
  let configPath: string | null = null;
  if (opts.config !== undefined) {
    configPath = join(scratch.path, 'server-config.json');
    await writeFile(configPath, JSON.stringify(opts.config, null, 2));
  }
  return new ServerProcess(opts, configPath, scratch);
}

/**
 * Spawns `server/cli.ts` and waits for its ready line.
 * @throws Error carrying the server's stderr when it exits or is not ready in time (the
 *   process is killed first)
 */
export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const server = await spawnServerProcess(opts);
  try {
    await server.waitReady(opts.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await server.kill();
    throw err;
  }
  return server;
}

/** Server processes started by this test file that have not exited yet. */
export function liveServers(): ServerProcess[] {
  return [...live];
}

/** Every server process this test file has started, oldest first (running or not). */
export function startedServers(): readonly ServerProcess[] {
  return started;
}

/**
 * Stops every server this file started that still runs: SIGTERM (so it terminates its child
 * agents), SIGKILL after `timeoutMs` ms. Use in afterAll as a safety net.
 */
export async function stopAllServers(timeoutMs = 10_000): Promise<void> {
  await Promise.all([...live].map((server) => server.stop('SIGTERM', timeoutMs)));
}

process.once('exit', () => {
  // A crashed test must not leave servers holding ports for the next file.
  for (const server of live) {
    if (server.pid !== undefined) {
      try {
        process.kill(server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
