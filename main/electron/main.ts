/**
 * The Electron entry (bundled to `dist/electron/main.cjs`, package.json `main`). It only wires:
 * the privileged `app:` scheme (before ready) → single-instance lock → data dir → console core
 * → embedded server in a utility process when nothing is configured → `app://console/` +
 * window + IPC registrar → a bounded shutdown on quit. The logic lives in `main/core`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { app, dialog, protocol, type BrowserWindow } from 'electron';
import { APP_DIR_NAME } from '../core/dataDir';
import { createConsoleHandlers, type ConsoleHandlers } from '../core/ipc';
import { openConsoleCore, type ConsoleCore } from '../core/services/consoleCore';
import type { EmbeddedDefault } from '../embeddedDefault';
import { serverExitText, type ServerExit, type ServerLauncher } from '../embeddedServer';
import { EmbeddedServerKeeper } from '../embeddedServerKeeper';
import { devPageOf, type AppPage } from './appPage';
import { registerAppScheme, serveAppProtocol } from './appProtocol';
import { registerIpc } from './ipc';
import { claimSingleInstance, installQuitHandler } from './lifecycle';
import { utilityServerLauncher } from './utilityServer';
import { createMainWindow } from './window';

/** The longest the app waits on quit for the queue to flush and the sockets to close, ms. */
const SHUTDOWN_TIMEOUT_MS = 3000;
/** How long closing sockets may keep flushing queued sends, ms (within the timeout above). */
const SOCKET_LINGER_MS = 1000;

/** Where the bundles sit: `dist/electron` (this file is bundled to `dist/electron/main.cjs`). */
const here = __dirname;
/**
 * The app's root: `<root>/dist/electron/..`/.. when bundled (`resources/app.asar` when packaged),
 * and `<repo>/main/electron/../..` when this file runs from source (the unit tests): both hold
 * the build output in `dist/`.
 */
const appRoot = join(here, '..', '..');

// Electron accepts privileged schemes only before the app is ready: do it while loading.
registerAppScheme(protocol);

interface Running {
  core: ConsoleCore;
  handlers: ConsoleHandlers;
  /** The embedded server's keeper (it restarts the server); null when it could not be set up. */
  keeper: EmbeddedServerKeeper | null;
  page: AppPage;
  window: BrowserWindow | null;
}

let running: Running | null = null;

/**
 * Same folder as the browser host (`defaultDataDir`): both hosts share one queue and history.
 * Electron would otherwise use the product name ("Descartes Console").
 */
function resolveDataDir(): string {
  const override = process.env.DESCARTES_DATA_DIR;
  if (override !== undefined && override !== '') return override;
  app.setPath('userData', join(app.getPath('appData'), APP_DIR_NAME));
  return app.getPath('userData');
}

function resolvePage(): AppPage {
  const devUrl = process.env.DESCARTES_RENDERER_URL;
  // A packaged app never loads a URL from its environment.
  if (!app.isPackaged && devUrl !== undefined && devUrl !== '') return devPageOf(devUrl);
  return { kind: 'app', rendererDir: join(appRoot, 'dist', 'renderer') };
}

/**
 * The bundled server (`dist/server/cli.cjs`, built with this bundle) in a utility process. A
 * utility process takes no `--import` loader, so there is no from-source fallback under
 * Electron. Its working directory is the data dir (the asar archive cannot be one).
 * @throws Error naming the missing bundle and the command that builds it
 */
function serverLauncher(dataDir: string): ServerLauncher {
  const entry = join(appRoot, 'dist', 'server', 'cli.cjs');
  if (!existsSync(entry)) {
    throw new Error(`the agent server bundle ${entry} is missing; build it with "npm run build:electron"`);
  }
  return utilityServerLauncher({ entry, cwd: dataDir });
}

/** Says that the local server ended on its own; the operator would otherwise only see it go offline. */
function reportServerExit(exit: ServerExit & { stderr: string }): void {
  const how = serverExitText(exit);
  const detail = exit.stderr.split('\n').slice(-20).join('\n');
  console.error(`descartes: the local agent server stopped (${how})${detail === '' ? '' : `:\n${detail}`}`);
  // Not showErrorBox: it blocks the main process (and the queue) until someone clicks.
  void dialog
    .showMessageBox({
      type: 'error',
      title: 'The local agent server stopped',
      message: `The local agent server stopped (${how}).`,
      detail: `${detail === '' ? '' : `${detail}\n\n`}Press Restart on it in the Servers view to start it again; servers added by hand are not affected.`,
    })
    .catch(() => undefined);
}

function openWindow(state: Running): BrowserWindow {
  const win = createMainWindow({ preloadPath: join(here, 'preload.cjs'), page: state.page });
  registerIpc({ window: win, page: state.page, handlers: state.handlers });
  win.on('closed', () => {
    if (state.window === win) state.window = null;
  });
  state.window = win;
  return win;
}

async function shutdown(state: Running): Promise<void> {
  state.handlers.dispose();
  try {
    await state.core.dispose(SOCKET_LINGER_MS);
  } finally {
    await state.keeper?.stop(SHUTDOWN_TIMEOUT_MS);
  }
}

async function start(): Promise<void> {
  if (!claimSingleInstance(app, () => running?.window ?? null)) return;
  const dataDir = resolveDataDir();
  await app.whenReady();

  let core: ConsoleCore;
  try {
    core = openConsoleCore({ dataDir });
  } catch (error) {
    dialog.showErrorBox(
      'Descartes Console cannot start',
      `${error instanceof Error ? error.message : String(error)}\n\nData folder: ${dataDir}`,
    );
    app.exit(1);
    return;
  }

  let embedded: EmbeddedDefault | null = null;
  let keeper: EmbeddedServerKeeper | null = null;
  let embeddedProblem: string | null = null;
  try {
    keeper = new EmbeddedServerKeeper(core.registry, {
      dataDir,
      clientPublicKey: core.clientKey.info.publicKey,
      launcher: serverLauncher(dataDir),
      onUnexpectedExit: reportServerExit,
    });
    embedded = await keeper.start();
  } catch (error) {
    // The console still works with servers added by hand; say why the local one is missing.
    embeddedProblem = error instanceof Error ? error.message : String(error);
    dialog.showErrorBox(
      'The local agent server did not start',
      `${embeddedProblem}\n\nAdd a server in the Servers view to continue.`,
    );
  }

  const handlers = createConsoleHandlers(core, {
    info: {
      version: app.getVersion(),
      host: 'electron',
      embeddedServer:
        embedded === null ? null : { serverId: embedded.profile.id, endpoint: embedded.server.endpoint },
      embeddedServerProblem: embeddedProblem,
    },
    ...(keeper === null ? {} : { embeddedServer: keeper }),
  });
  const page = resolvePage();
  if (page.kind === 'app') serveAppProtocol(protocol, page);
  const state: Running = { core, handlers, keeper, page, window: null };
  running = state;

  installQuitHandler(app, {
    shutdown: () => shutdown(state),
    timeoutMs: SHUTDOWN_TIMEOUT_MS,
    onOutcome: (outcome) => {
      if (outcome.kind === 'timeout')
        console.error(`descartes: shutdown cut off after ${outcome.afterMs} ms`);
      if (outcome.kind === 'failed') console.error(`descartes: shutdown failed: ${String(outcome.error)}`);
    },
  });
  app.on('window-all-closed', () => {
    // macOS apps stay in the dock without windows; the queue keeps delivering meanwhile.
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (state.window === null) openWindow(state);
  });
  openWindow(state);
}

start().catch((error: unknown) => {
  dialog.showErrorBox(
    'Descartes Console failed',
    error instanceof Error ? (error.stack ?? error.message) : String(error),
  );
  app.exit(1);
});
