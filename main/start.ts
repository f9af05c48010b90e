/**
 * `npm start`: the console, with whatever this machine has.
 *
 * 1. Electron when its binary is present (one download attempt when it is not): Electron's main
 *    process then owns the core (the queue lock), so this process only launches it with
 *    `DESCARTES_DATA_DIR` set and forwards signals.
 * 2. Otherwise the browser host: opens the core in the app-data directory, starts the embedded
 *    agent server when nothing else is configured, serves the console on 127.0.0.1 and prints
 *    ONE line on stdout: the reason plus the URL (with its token). Opens it in the default
 *    browser unless `--no-open` or `CI` is set, through a private page in the data directory
 *    (`launcherPage.ts`) so that the token never appears in a program's arguments.
 *
 * Flags: `--no-open`, `--browser` (skip Electron), `--port N` (browser host port; default any).
 * Env: `DESCARTES_DATA_DIR` (data directory), `DESCARTES_RENDERER_DIR` (built renderer; default
 * `dist/renderer`), `DESCARTES_EMBEDDED_PORT` (first port tried for a new embedded server;
 * default 5555). SIGINT/SIGTERM stop the host, flush the queue, close sockets and stop the
 * embedded server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrowserHost, type BrowserHost } from './browser/browserHost';
import { defaultDataDir } from './core/dataDir';
import { createConsoleHandlers, type ConsoleHandlers } from './core/ipc/consoleHandlers';
import { openConsoleCore, type ConsoleCore } from './core/services/consoleCore';
import type { EmbeddedDefault } from './embeddedDefault';
import { serverExitText } from './embeddedServer';
import { EmbeddedServerKeeper } from './embeddedServerKeeper';
import { findElectron, tryInstallElectron, type ElectronLookup } from './electronBinary';
import { removeLauncherPage, writeLauncherPage } from './launcherPage';
import { openInBrowser } from './openBrowser';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ELECTRON_MAIN = join(ROOT, 'dist', 'electron', 'main.cjs');

interface StartArgs {
  open: boolean;
  browser: boolean;
  port: number;
}

function parseStartArgs(argv: readonly string[]): StartArgs {
  const args: StartArgs = {
    open: process.env.CI === undefined || process.env.CI === '',
    browser: false,
    port: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-open') args.open = false;
    else if (a === '--browser') args.browser = true;
    else if (a === '--port') {
      const port = Number(argv[++i]);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        die(`--port needs a port number 0-65535, got ${String(argv[i])}`);
      args.port = port;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm start -- [--no-open] [--browser] [--port N]\n');
      process.exit(0);
    } else die(`unknown option ${String(a)}; see npm start -- --help`);
  }
  return args;
}

function die(message: string): never {
  process.stderr.write(`descartes: ${message}\n`);
  process.exit(1);
}

function log(message: string): void {
  process.stderr.write(`descartes: ${message}\n`);
}

function scripts(): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    return pkg.scripts ?? {};
  } catch {
    return {};
  }
}

function version(): string {
  try {
    return (
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ??
      '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

/** Runs `npm run <script>` with its output on stderr (stdout carries only the URL line). */
function runScript(name: string): boolean {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['run', name], {
    cwd: ROOT,
    stdio: ['ignore', 2, 2],
    shell: process.platform === 'win32',
  });
  return run.status === 0;
}

/** The Electron binary and a built main bundle, or why the browser host is used instead. */
function electronOrReason(args: StartArgs, dataDir: string): ElectronLookup {
  if (args.browser) return { ok: false, reason: 'Browser host requested (--browser)' };
  let found = findElectron(ROOT);
  if (!found.ok) {
    log('Electron is not installed; trying to download it once…');
    found = tryInstallElectron(ROOT, dataDir, 60_000);
  }
  if (!found.ok) return found;
  if (!existsSync(ELECTRON_MAIN)) {
    if (
      scripts()['build:electron'] === undefined ||
      !runScript('build:electron') ||
      !existsSync(ELECTRON_MAIN)
    ) {
      return {
        ok: false,
        reason: `Electron is installed but its main bundle ${ELECTRON_MAIN} could not be built`,
      };
    }
  }
  return found;
}

function runElectron(binary: string, dataDir: string): void {
  const child = spawn(binary, [ELECTRON_MAIN], {
    cwd: ROOT,
    env: { ...process.env, DESCARTES_DATA_DIR: dataDir },
    stdio: 'inherit',
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal === null ? 1 : 0));
  });
  child.on('error', (e) => {
    die(`could not start Electron (${e.message}); run "npm start -- --browser" to use the browser instead`);
  });
}

function ensureRenderer(rendererDir: string): void {
  if (existsSync(join(rendererDir, 'index.html'))) return;
  if (process.env.DESCARTES_RENDERER_DIR) return; // an explicit folder is the caller's business
  log('building the console web page (first run)…');
  if (!runScript('build:renderer'))
    log('the web page could not be built: the console URL will explain; run "npm run build:renderer"');
}

async function runBrowserHost(args: StartArgs, dataDir: string, reason: string): Promise<void> {
  const rendererDir = process.env.DESCARTES_RENDERER_DIR || join(ROOT, 'dist', 'renderer');
  ensureRenderer(rendererDir);
  let core: ConsoleCore;
  try {
    core = openConsoleCore({ dataDir });
  } catch (e) {
    die(e instanceof Error ? e.message : String(e));
  }
  let embedded: EmbeddedDefault | null = null;
  let embeddedProblem: string | null = null;
  const preferred = Number(process.env.DESCARTES_EMBEDDED_PORT ?? '');
  const keeper = new EmbeddedServerKeeper(core.registry, {
    dataDir,
    clientPublicKey: core.clientKey.info.publicKey,
    ...(Number.isInteger(preferred) && preferred > 0 ? { defaultPort: preferred } : {}),
    onUnexpectedExit: (exit) => {
      log(`the local agent server stopped (${serverExitText(exit)}); restart it from the Servers view`);
    },
  });
  let handlers: ConsoleHandlers | null = null;
  let host: BrowserHost | null = null;
  // An object, so the check after the host starts sees a shutdown that began meanwhile.
  const life = { stopping: false };
  const shutdown = async (signal: string): Promise<void> => {
    if (life.stopping) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    life.stopping = true;
    log(`${signal}: closing the console…`);
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, 8000).unref());
    await Promise.race([
      (async () => {
        removeLauncherPage(dataDir);
        await host?.close();
        handlers?.dispose();
        await core.dispose(1000);
        await keeper.stop(5000);
      })(),
      deadline,
    ]);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    embedded = await keeper.start();
    if (embedded)
      log(`local agent server running at ${embedded.server.endpoint} (pid ${embedded.server.pid})`);
  } catch (e) {
    embeddedProblem = e instanceof Error ? e.message : String(e);
    log(`the local agent server did not start: ${embeddedProblem}`);
  }
  handlers = createConsoleHandlers(core, {
    info: {
      version: version(),
      host: 'browser',
      embeddedServer: embedded ? { serverId: embedded.profile.id, endpoint: embedded.server.endpoint } : null,
      embeddedServerProblem: embeddedProblem,
    },
    embeddedServer: keeper,
  });
  try {
    host = await startBrowserHost({ handlers, rendererDir, port: args.port });
  } catch (e) {
    log(`the browser host could not listen: ${e instanceof Error ? e.message : String(e)}`);
    await shutdown('error');
    return;
  }
  process.stdout.write(`${reason}; open the console at ${host.url}\n`);
  if (args.open && !life.stopping) {
    try {
      openInBrowser(writeLauncherPage(dataDir, host.url));
      // A confined browser (e.g. a snap) may not read the data directory: the URL still works.
      log('opening the console in your browser; if it does not open, use the URL above');
    } catch (e) {
      log(
        `cannot write the page that opens the console (${e instanceof Error ? e.message : String(e)}); open the URL above`,
      );
    }
  }
}

async function main(): Promise<void> {
  const args = parseStartArgs(process.argv.slice(2));
  const dataDir = defaultDataDir();
  // 0700: it holds the console's secret key (client.key) and the command history.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const electron = electronOrReason(args, dataDir);
  if (electron.ok) {
    runElectron(electron.binary, dataDir);
    return;
  }
  await runBrowserHost(args, dataDir, electron.reason);
}

main().catch((e: unknown) => {
  die(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});
