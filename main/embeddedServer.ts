import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCurveKey } from '../shared/domain/curveKey';

/** Default command port of the embedded server (its PUB port is the next one). */
export const DEFAULT_EMBEDDED_PORT = 5555;
/** Ports stay below the kernel's ephemeral range (ARCHITECTURE §4: a DEALER could connect to itself). */
const MAX_PORT = 32767;

/** How to run the agent server as a child process. */
export interface ServerCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface ServerCommandOptions {
  /** The repository (from source) or app (packaged) root; default: this file's `..`. */
  readonly appRoot?: string;
  /**
   * A bundled server script (plain JS), e.g. `<resources>/server/cli.cjs` in a packaged app. When
   * given, the server runs as `process.execPath <script>` with `ELECTRON_RUN_AS_NODE=1`, so the
   * Electron binary itself acts as Node (no separate Node install needed).
   */
  readonly bundledScript?: string | null;
  readonly env?: NodeJS.ProcessEnv;
}

/** The repository root when running from source (`main/..`); null when it cannot be known (a CJS bundle). */
export function defaultAppRoot(): string | null {
  try {
    return fileURLToPath(new URL('..', import.meta.url));
  } catch {
    return null;
  }
}

/**
 * The command line that starts the agent server (without its own arguments):
 * - packaged (a `bundledScript`): `<execPath> <script>` with `ELECTRON_RUN_AS_NODE=1`;
 * - from source: `<node> --import tsx server/cli.ts` in the repository root. Not the `tsx`
 *   wrapper binary: it runs the script in a grandchild, so stopping the wrapper would leave the
 *   real server holding its ports.
 * @throws Error when neither a bundled script nor `server/cli.ts` under the app root exists
 */
export function embeddedServerCommand(options: ServerCommandOptions = {}): ServerCommand {
  const env = { ...(options.env ?? process.env) };
  if (options.bundledScript) {
    if (!existsSync(options.bundledScript))
      throw new Error(`the bundled agent server ${options.bundledScript} is missing`);
    return {
      command: process.execPath,
      args: [options.bundledScript],
      env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
      cwd: join(options.bundledScript, '..'),
    };
  }
  const root = options.appRoot ?? defaultAppRoot();
  if (root === null || !existsSync(join(root, 'server', 'cli.ts'))) {
    throw new Error(
      `cannot find the agent server: ${root ?? '(unknown app root)'}/server/cli.ts does not exist`,
    );
  }
  // Under Electron the source run still needs a real Node with tsx: ELECTRON_RUN_AS_NODE makes the binary one.
  const electron = 'electron' in process.versions;
  return {
    command: process.execPath,
    args: ['--import', 'tsx', join(root, 'server', 'cli.ts')],
    env: electron ? { ...env, ELECTRON_RUN_AS_NODE: '1' } : env,
    cwd: root,
  };
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
 * @throws Error when none is free up to 32767
 */
export async function findFreePortPair(start: number = DEFAULT_EMBEDDED_PORT): Promise<number> {
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
  /** How to run the server; default {@link embeddedServerCommand}(). */
  readonly command?: ServerCommand;
  /** How long to wait for the ready line, ms; default 30 000. */
  readonly readyTimeoutMs?: number;
  /** Receives the server's stderr lines (diagnostics); default: dropped after the last 64 KiB. */
  readonly onLog?: (line: string) => void;
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
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (the server stops its agents), SIGKILL after `timeoutMs` (default 10 000). Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the local agent server as a child process on free loopback ports (the preferred pair
 * if free, else the next free pair), with `--state-dir <dataDir>/embedded-server` so its key
 * pair and dedupe cache survive restarts, and waits for its ready line.
 *
 * It runs CurveZMQ (the server's default) and admits only `clientPublicKey`
 * (`--allow-client`): other local users and web pages can reach the ports but cannot send a
 * command or read an event. The state dir is 0700 inside the console's data dir.
 * @throws Error with the server's stderr when it exits, is not ready in time, or its ready line
 *   carries no public key (it would not be encrypted)
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const command = options.command ?? embeddedServerCommand();
  const stateDir = join(options.dataDir, 'embedded-server');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // A state dir made by an earlier version may be 0755; it now holds the server's secret key.
  if (process.platform !== 'win32') chmodSync(stateDir, 0o700);
  let from = options.preferredPort ?? DEFAULT_EMBEDDED_PORT;
  let lastError: Error | null = null;
  // A port can be taken between the probe and the server's bind: try the next pair then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await findFreePortPair(from);
    try {
      return await launch(command, port, stateDir, options);
    } catch (e) {
      lastError = e instanceof Error ? e : new Error(String(e));
      if (!/address already in use|EADDRINUSE/i.test(lastError.message)) throw lastError;
      from = port + 2;
    }
  }
  throw lastError ?? new Error('the embedded agent server did not start');
}

function launch(
  command: ServerCommand,
  port: number,
  stateDir: string,
  options: EmbeddedServerOptions,
): Promise<EmbeddedServer> {
  const endpoint = `tcp://127.0.0.1:${port}`;
  const pubEndpoint = `tcp://127.0.0.1:${port + 1}`;
  const child: ChildProcess = spawn(
    command.command,
    [
      ...command.args,
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
    ],
    { cwd: command.cwd, env: command.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      stderr += `\n${err.message}`;
      resolve({ code: null, signal: null });
    });
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
      child.kill('SIGKILL');
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
        if (ready !== null && child.pid !== undefined) {
          settled = true;
          clearTimeout(timer);
          if (ready.publicKey === null) {
            // Never expected (no --insecure is passed): refuse rather than run it unencrypted.
            child.kill('SIGKILL');
            reject(
              new Error(
                `the embedded agent server reported no public key (security ${ready.security ?? 'unknown'}); it would not be encrypted`,
              ),
            );
            return;
          }
          resolve(handle(child, endpoint, pubEndpoint, ready.serverId, ready.publicKey, exited));
          return;
        }
        nl = buffered.indexOf('\n');
      }
    });
  });
}

function handle(
  child: ChildProcess,
  endpoint: string,
  pubEndpoint: string,
  serverId: string,
  publicKey: string,
  exited: EmbeddedServer['exited'],
): EmbeddedServer {
  let stopping: Promise<void> | null = null;
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  return {
    endpoint,
    pubEndpoint,
    serverId,
    publicKey,
    pid: child.pid ?? 0,
    exited,
    stop: (timeoutMs = 10_000) => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
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
