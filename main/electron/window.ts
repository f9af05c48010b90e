import { BrowserWindow, shell, type Session, type WebContents, type WebPreferences } from 'electron';
import { appUrlOf, contentSecurityPolicy, isAppUrl, isSafeExternalUrl, type AppPage } from './appPage';

export interface MainWindowOptions {
  /** Absolute path of the bundled preload (`dist/electron/preload.cjs`). */
  readonly preloadPath: string;
  /** The page to show; nothing else may load in the window. */
  readonly page: AppPage;
  readonly title?: string;
}

/** The only permission the console's page may get: desktop notifications for failures. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['notifications']);

/**
 * The web preferences of every console window. The renderer gets no Node, no Electron, no
 * webviews: only what the sandboxed preload exposes through the context bridge.
 */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    navigateOnDragDrop: false,
  };
}

/**
 * Creates the console window (the ONE window factory): secure web preferences, a strict CSP
 * header on every response of its session, navigation and new windows denied (http(s) links
 * open in the OS browser after validation), webviews refused, permissions denied except
 * notifications. The page starts loading at once; the window shows when it is ready.
 */
export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 500,
    show: false,
    title: options.title ?? 'Descartes Console',
    webPreferences: secureWebPreferences(options.preloadPath),
  });
  hardenSession(win.webContents.session, options.page);
  hardenContents(win.webContents, options.page);
  win.once('ready-to-show', () => {
    win.show();
  });
  void loadPage(win, options.page);
  return win;
}

function loadPage(win: BrowserWindow, page: AppPage): Promise<void> {
  // Never file://: the built renderer comes from app://console/ (serveAppProtocol), the dev page over http.
  // A failed load shows Chromium's error page; the rejection carries nothing more to act on.
  return win.loadURL(appUrlOf(page)).catch((error: unknown) => {
    console.error(`descartes: could not load ${appUrlOf(page)}: ${String(error)}`);
  });
}

/**
 * Sets the CSP header and the permission policy of the window's session. The app's own
 * protocol already sends the CSP; this hook covers the dev server's responses and stays as a
 * second layer (same policy, one definition) for everything else the session loads.
 */
export function hardenSession(session: Session, page: AppPage): void {
  const csp = contentSecurityPolicy(page);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string | string[]> = {};
    // Drop any CSP the server sent (the dev server sends none) so ours is the only one.
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [csp];
    callback({ responseHeaders: headers });
  });
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    callback(ALLOWED_PERMISSIONS.has(permission));
  });
  session.setPermissionCheckHandler((_contents, permission) => ALLOWED_PERMISSIONS.has(permission));
}

/** Denies navigation away from the app, new windows and webviews. */
export function hardenContents(contents: WebContents, page: AppPage): void {
  const guard = (event: { url: string; preventDefault(): void }): void => {
    if (isAppUrl(event.url, page)) return;
    event.preventDefault();
    openExternally(event.url);
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
}

/** Hands a validated http(s) link to the OS browser; anything else is dropped. */
function openExternally(url: string): void {
  if (!isSafeExternalUrl(url)) return;
  shell.openExternal(url).catch((error: unknown) => {
    console.error(`descartes: could not open ${url}: ${String(error)}`);
  });
}
