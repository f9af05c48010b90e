import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCurveKey } from '../shared/domain/curveKey';

/** Default command port of the embedded server (its PUB port is the next one). */
export const DEFAULT_EMBEDDED_PORT = 5555;
/** Ports stay below the ephemeral range: a DEALER may connect to itself (docs/ARCHITECTURE.md §4.4). */
const MAX_PORT = 32767;

/** How to run the agent server as a child process of plain Node. */
export interface ServerCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface ServerCommandOptions {
  /** The repository (from source) or app (packaged) root; default: this file's `..`. */
  readonly appRoot?: string;
  /** A bundled server script (plain JS, e.g. `dist/server/cli.cjs`): run as `node <script>`. */
  readonly bundledScript?: string | null;
  readonly env?: NodeJS.ProcessEnv;
}

/** How a server process ended. `signal` is null where the host does not report one (Electron). */
export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it could not start or died abnormally, when the host says (spawn error, V8 fatal error). */
  readonly error?: string;
}

/**
 * A running agent server process as the embedded-server logic sees it, whoever started it: a
 * Node child process ({@link childProcessLauncher}) or Electron's utility process
 * (`main/electron/utilityServer.ts`).
 */
export interface ServerProcess {
  /** The OS process id once it is running; undefined while starting or when it could not start. */
  readonly pid: number | undefined;
  /** Its stdout (the ready line arrives here) and stderr (diagnostics), both piped. */
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  /** Resolves once, when the process has ended or could not start. */
  readonly exited: Promise<ServerExit>;
  /** Asks it to stop: SIGTERM on POSIX (the server stops its agents, then exits). */
  terminate(): void;
  /** Ends it now: SIGKILL on POSIX. */
  kill(): void;
}

/** Starts the agent server with `args` (its options: `--bind`, `--pub`, `--state-dir`, …). */
export type ServerLauncher = (args: readonly string[]) => ServerProcess;

/** The repository root when running from source (`main/..`); null when it cannot be known (a CJS bundle). */
export function defaultAppRoot(): string | null {
  try {
    return fileURLToPath(new URL('..', import.meta.url));
  } catch {
    return null;
  }
}

/**
 * The command line that starts the agent server under plain Node (without its own arguments):
 * - a `bundledScript`: `<node> <script>`;
 * - from source: `<node> --import tsx server/cli.ts` in the repository root. Not the `tsx`
 *   wrapper binary: it runs the script in a grandchild, so stopping the wrapper would leave the
 *   real server holding its ports.
 *
 * Not for Electron: there `process.execPath` is the app itself, and the packaged app's RunAsNode
 * fuse is off (no `ELECTRON_RUN_AS_NODE`), so the server runs in a utility process instead.
 * @throws Error under Electron, or when neither a bundled script nor `server/cli.ts` under the
 *   app root exists
 */
export function embeddedServerCommand(options: ServerCommandOptions = {}): ServerCommand {
  if ('electron' in process.versions) {
    throw new Error(
      'under Electron the agent server runs in a utility process (utilityServerLauncher), not as a child process',
    );
  }
  const env = { ...(options.env ?? process.env) };
  if (options.bundledScript) {
    if (!existsSync(options.bundledScript))
      throw new Error(`the bundled agent server ${options.bundledScript} is missing`);
    return {
      command: process.execPath,
      args: [options.bundledScript],
      env,
      cwd: join(options.bundledScript, '..'),
    };
  }
  const root = options.appRoot ?? defaultAppRoot();
  if (root === null || !existsSync(join(root, 'server', 'cli.ts'))) {
    throw new Error(
      `cannot find the agent server: ${root ?? '(unknown app root)'}/server/cli.ts does not exist`,
    );
  }
  return {
    command: process.execPath,
    args: ['--import', 'tsx', join(root, 'server', 'cli.ts')],
    env,
    cwd: root,
  };
}

/** Runs `command` plus the server's arguments as a Node child process (stdin ignored, stdout/stderr piped). */
export function childProcessLauncher(command: ServerCommand): ServerLauncher {
  return (args) => {
    const child = spawn(command.command, [...command.args, ...args], {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<ServerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
      child.once('error', (err) => {
        resolve({ code: null, signal: null, error: err.message });
      });
    });
    return {
      get pid() {
        return child.pid;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      terminate: () => {
        child.kill('SIGTERM');
      },
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}

/**
 * How a server process ended, for people: `signal SIGKILL`, `exit code 3`, or the host's own
 * reason (a spawn error, a V8 fatal error).
 */
export function serverExitText(exit: ServerExit): string {
  return exit.error ?? (exit.signal === null ? `exit code ${String(exit.code)}` : `signal ${exit.signal}`);
}

/** Whether a TCP listener can bind `127.0.0.1:port` right now. Never throws. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen({ port, host, exclusive: true }, () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

/**
 * The first port `p ≥ start` with `p` and `p + 1` both free on loopback, below 32768.
 * @throws Error when `start` is above 32766, or none is free up to 32767
 */
export async function findFreePortPair(start: number = DEFAULT_EMBEDDED_PORT): Promise<number> {
  if (start + 1 > MAX_PORT) {
    throw new Error(
      `the first port to try (${start}, e.g. from DESCARTES_EMBEDDED_PORT) is above ${MAX_PORT - 1}: ` +
        `the local agent server keeps below the ports the system hands out for outgoing connections; ` +
        `choose one from 1024 to ${MAX_PORT - 1}`,
    );
  }
  for (let p = Math.max(1024, start); p + 1 <= MAX_PORT; p++) {
    if ((await isPortFree(p)) && (await isPortFree(p + 1))) return p;
  }
  throw new Error(`no two adjacent free TCP ports between ${start} and ${MAX_PORT} on 127.0.0.1`);
}

export interface EmbeddedServerOptions {
  /**
   * The app-data directory; the server keeps its key pair, its allowed clients and its dedupe
   * journal in `<dataDir>/embedded-server`.
   */
  readonly dataDir: string;
  /** The console's public key (Z85): the one client the server admits (`--allow-client`). */
  readonly clientPublicKey: string;
  /** Command port to try first (the PUB port is the next one); default 5555. Higher ports are searched when taken. */
  readonly preferredPort?: number;
  /**
   * Only `preferredPort` and the next one, never another pair: a restart must come back where
   * the profile points. Taken ports are then an error that says so.
   */
  readonly exactPort?: boolean;
  /**
   * How to start the server process. Default: a Node child process running `command`
   * ({@link childProcessLauncher}). The Electron host passes its utility-process launcher.
   */
  readonly launcher?: ServerLauncher;
  /** The command for the default launcher; default {@link embeddedServerCommand}(). Ignored with `launcher`. */
  readonly command?: ServerCommand;
  /** How long to wait for the ready line, ms; default 30 000. */
  readonly readyTimeoutMs?: number;
  /** Receives the server's stderr lines (diagnostics); default: dropped after the last 64 KiB. */
  readonly onLog?: (line: string) => void;
  /**
   * Told when the server ends after it was ready without `stop()` having been called (a crash,
   * a kill from outside), with the end of its stderr. The console is then without its local
   * server until it restarts, which the host should say.
   */
  readonly onUnexpectedExit?: (exit: ServerExit & { readonly stderr: string }) => void;
}

export interface EmbeddedServer {
  /** `tcp://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly pubEndpoint: string;
  /** The server's own id (its health metadata `server_id`). */
  readonly serverId: string;
  /** The server's public key (Z85) from its ready line: what the console pins. */
  readonly publicKey: string;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ServerExit>;
  /** SIGTERM (the server stops its agents), SIGKILL after `timeoutMs` (default 10 000). Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the local agent server (a child process, or what `launcher` makes) on free loopback
 * ports (the preferred pair if free, else the next free pair), with `--state-dir
 * <dataDir>/embedded-server` so its key pair and dedupe cache survive restarts, and waits for
 * its ready line on stdout.
 *
 * It runs CurveZMQ (the server's default) and admits only `clientPublicKey`
 * (`--allow-client`): other local users and web pages can reach the ports but cannot send a
 * command or read an event. The state dir is 0700 inside the console's data dir.
 * @throws Error with the server's stderr when it exits, is not ready in time, or its ready line
 *   carries no public key (it would not be encrypted)
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const launcher = options.launcher ?? childProcessLauncher(options.command ?? embeddedServerCommand());
  const stateDir = join(options.dataDir, 'embedded-server');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // A state dir made by an earlier version may be 0755; it now holds the server's secret key.
  if (process.platform !== 'win32') chmodSync(stateDir, 0o700);
  let from = options.preferredPort ?? DEFAULT_EMBEDDED_PORT;
  if (options.exactPort === true) {
    if (!(await isPortFree(from)) || !(await isPortFree(from + 1))) {
      throw new Error(
        `port ${from} or ${from + 1} on 127.0.0.1 is taken by another program; stop it (or edit the server's endpoint) and try again`,
      );
    }
    return launch(launcher, from, stateDir, options);
  }
  let lastError: Error | null = null;
  // A port can be taken between the probe and the server's bind: try the next pair then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await findFreePortPair(from);
    try {
      return await launch(launcher, port, stateDir, options);
    } catch (e) {
      lastError = e instanceof Error ? e : new Error(String(e));
      if (!/address already in use|EADDRINUSE/i.test(lastError.message)) throw lastError;
      from = port + 2;
    }
  }
  throw lastError ?? new Error('the embedded agent server did not start');
}

function launch(
  launcher: ServerLauncher,
  port: number,
  stateDir: string,
  options: EmbeddedServerOptions,
): Promise<EmbeddedServer> {
  const endpoint = `tcp://127.0.0.1:${port}`;
  const pubEndpoint = `tcp://127.0.0.1:${port + 1}`;
  const child = launcher([
    '--bind',
    endpoint,
    '--pub',
    pubEndpoint,
    '--state-dir',
    stateDir,
    '--parent-pid',
    String(process.pid),
    '--allow-client',
    options.clientPublicKey,
  ]);
  let stderr = '';
  let ended = false;
  const exited = child.exited.then((exit) => {
    ended = true;
    if (exit.error !== undefined) stderr += `\n${exit.error}`;
    return exit;
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
    if (options.onLog) for (const line of chunk.split('\n')) if (line.length > 0) options.onLog(line);
  });
  child.stdout?.setEncoding('utf8');
  return new Promise<EmbeddedServer>((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill();
      reject(
        new Error(
          `the embedded agent server was not ready after ${timeoutMs} ms: ${stderr.trim() || '(no output)'}`,
        ),
      );
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        new Error(
          `the embedded agent server exited before it was ready (code ${String(code)}, signal ${String(signal)}): ${stderr.trim() || '(no output)'}`,
        ),
      );
    });
    child.stdout?.on('data', (chunk: string) => {
      if (settled) return;
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const ready = readyLine(line);
        if (ready !== null) {
          settled = true;
          clearTimeout(timer);
          if (ready.publicKey === null) {
            // Never expected (no --insecure is passed): refuse rather than run it unencrypted.
            child.kill();
            reject(
              new Error(
                `the embedded agent server reported no public key (security ${ready.security ?? 'unknown'}); it would not be encrypted`,
              ),
            );
            return;
          }
          const server = handle(child, {
            endpoint,
            pubEndpoint,
            serverId: ready.serverId,
            publicKey: ready.publicKey,
            exited,
            isEnded: () => ended,
          });
          const report = options.onUnexpectedExit;
          if (report !== undefined) {
            void exited.then((exit) => {
              if (!server.stopRequested()) report({ ...exit, stderr: stderr.trim() });
            });
          }
          resolve(server);
          return;
        }
        nl = buffered.indexOf('\n');
      }
    });
  });
}

interface ReadyServer {
  readonly endpoint: string;
  readonly pubEndpoint: string;
  readonly serverId: string;
  readonly publicKey: string;
  readonly exited: Promise<ServerExit>;
  readonly isEnded: () => boolean;
}

function handle(child: ServerProcess, ready: ReadyServer): EmbeddedServer & { stopRequested(): boolean } {
  let stopping: Promise<void> | null = null;
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  const { isEnded, ...info } = ready;
  return {
    ...info,
    pid: child.pid ?? 0,
    stopRequested: () => stopping !== null,
    stop: (timeoutMs = 10_000) => {
      stopping ??= (async () => {
        if (isEnded()) return;
        child.terminate();
        const timer = setTimeout(() => {
          child.kill();
        }, timeoutMs);
        await ready.exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** The server's ready line: `{"event":"ready","server_id":…,"public_key":…,"security":…}`. */
function readyLine(
  line: string,
): { serverId: string; publicKey: string | null; security: string | null } | null {
  try {
    const v = JSON.parse(line) as {
      event?: unknown;
      server_id?: unknown;
      public_key?: unknown;
      security?: unknown;
    };
    if (v.event !== 'ready' || typeof v.server_id !== 'string') return null;
    return {
      serverId: v.server_id,
      publicKey: typeof v.public_key === 'string' && isCurveKey(v.public_key) ? v.public_key : null,
      security: typeof v.security === 'string' ? v.security : null,
    };
  } catch {
    return null;
  }
}
