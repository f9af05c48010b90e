import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter, dirname } from 'node:path';
import { stopChild } from '../../helpers/processes';
import { REPO_ROOT } from '../../helpers/serverProcess';

/** Most characters of console output kept per stream, for failure messages. */
const MAX_CAPTURE_CHARS = 64 * 1024;

/** Options of {@link startConsoleApp}. */
export interface ConsoleAppOptions {
  /** `DESCARTES_DATA_DIR`: queue database, `servers.json`, history. Reuse it to "restart the app". */
  readonly dataDir: string;
  /** Browser host port on 127.0.0.1 (`--port`). */
  readonly port: number;
  /** First port the embedded agent server tries (`DESCARTES_EMBEDDED_PORT`; its PUB is the next). */
  readonly embeddedPort: number;
  /** How long to wait for the URL line, ms (default 30 000). */
  readonly readyTimeoutMs?: number;
  /**
   * Let the console open the browser itself (no `--no-open`, `CI` empty), with `opener`'s
   * folder first on PATH so that its `xdg-open` is the one run. Default: no opening.
   */
  readonly opener?: string;
}

/**
 * The console as an operator runs it without Electron: `npm start -- --browser --no-open`, i.e.
 * `node --import tsx main/start.ts` as a child process (not through `npm`/`tsx` wrappers, so a
 * signal reaches the real process and its shutdown path: host closed, queue flushed, embedded
 * server stopped).
 */
export class ConsoleApp {
  /** The URL `main/start.ts` printed, with its access token. */
  url = '';
  private stdoutText = '';
  private stderrText = '';
  private readonly exitedPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  /** Use {@link startConsoleApp}. */
  constructor(
    private readonly child: ChildProcess,
    readonly options: ConsoleAppOptions,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.stdoutText = (this.stdoutText + chunk).slice(-MAX_CAPTURE_CHARS);
    });
    child.stderr?.on('data', (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-MAX_CAPTURE_CHARS);
    });
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once('error', (e) => {
        this.stderrText += `\n[e2e] could not start the console: ${e.message}\n`;
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The console's stdout/stderr so far, for failure output. */
  diagnostics(): string {
    const state =
      this.exitInfo === null ? 'running' : `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}`;
    return `--- console pid=${this.pid} (${state}) stderr ---\n${this.stderrText}\n--- stdout ---\n${this.stdoutText}\n--- end ---`;
  }

  /**
   * Waits for the one stdout line carrying the URL.
   * @throws Error with the console's output when it exits first or `timeoutMs` passes
   */
  async waitForUrl(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(this.stdoutText);
      if (match?.[1] !== undefined) {
        this.url = match[1];
        return this.url;
      }
      if (this.exitInfo !== null)
        throw new Error(`the console exited before printing its URL\n${this.diagnostics()}`);
      if (Date.now() > deadline)
        throw new Error(`the console printed no URL in ${timeoutMs} ms\n${this.diagnostics()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Stops the console like an operator closing it: SIGTERM (flushes the queue, stops the embedded
   * server), SIGKILL after `timeoutMs`. Resolves with how it exited.
   */
  async stop(timeoutMs = 12_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitInfo !== null) return this.exitInfo;
    return stopChild(this.child, this.exitedPromise, 'SIGTERM', timeoutMs);
  }
}

/**
 * Starts `main/start.ts --browser --no-open --port <port>` on `dataDir` (without `--no-open`
 * when {@link ConsoleAppOptions.opener} is given) and waits for its URL.
 * @throws Error (with the console's output) when it does not print its URL in time
 */
export async function startConsoleApp(options: ConsoleAppOptions): Promise<ConsoleApp> {
  const opener = options.opener;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'main/start.ts',
      '--browser',
      ...(opener === undefined ? ['--no-open'] : []),
      '--port',
      String(options.port),
    ],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CI: opener === undefined ? '1' : '',
        ...(opener === undefined ? {} : { PATH: `${dirname(opener)}${delimiter}${process.env.PATH ?? ''}` }),
        DESCARTES_DATA_DIR: options.dataDir,
        DESCARTES_EMBEDDED_PORT: String(options.embeddedPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const app = new ConsoleApp(child, options);
  try {
    await app.waitForUrl(options.readyTimeoutMs ?? 30_000);
  } catch (e) {
    await app.stop(2000);
    throw e;
  }
  return app;
}
