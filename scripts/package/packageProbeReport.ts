/**
 * What the package probe (`packageProbe.ts`) asks of the packed app and what its stand-in
 * Electron (`packageProbeElectron.ts`) reports back. Shared by both, and imports nothing that
 * the stand-in's bundle should not carry.
 */
import { APP_ORIGIN } from '../../main/electron/appPage';

/** What the app answered to one request of the probe. */
export interface ProbeResponse {
  readonly url: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly csp: string | null;
  /** The body as text (the first 256 KiB). */
  readonly body: string;
}

/** One `utilityProcess.fork` of the bundle. */
export interface ProbeFork {
  /** The script, relative to the app's root (`/`-separated). */
  readonly modulePath: string;
  readonly serviceName: string | null;
  readonly stdio: unknown;
  readonly runAsNode: boolean;
  /** Whether it was still running when the app exited. */
  readonly aliveAtExit: boolean;
}

/** What the stand-in saw while the packed main bundle ran. */
export interface ProbeReport {
  /** `protocol.registerSchemesAsPrivileged` calls, and whether the app was ready already. */
  readonly privileged: { readonly schemes: unknown; readonly afterReady: boolean }[];
  /** Schemes given a `protocol.handle` handler. */
  readonly handled: string[];
  /** What the window loaded: `url <u>` or `file <path>`. */
  readonly loads: string[];
  readonly responses: ProbeResponse[];
  /** The `appInfo` IPC call from the window's top frame showing the app, and from a file:// page. */
  readonly ipc: { readonly fromApp: unknown; readonly fromFile: unknown };
  readonly forks: ProbeFork[];
  /** `dialog.showErrorBox` and `dialog.showMessageBox` calls, as `title: text`. */
  readonly dialogs: string[];
  /** The code of `app.exit`, null when the bundle never exited. */
  readonly exitCode: number | null;
}

/** The URLs the stand-in requests, in this order. */
export const PROBE_URLS = [
  `${APP_ORIGIN}/`,
  `${APP_ORIGIN}/index.html`,
  // The URL parser folds this to /package.json inside the renderer folder: there is none there.
  `${APP_ORIGIN}/../../package.json`,
  `${APP_ORIGIN}/..%2f..%2fpackage.json`,
  'app://elsewhere/index.html',
] as const;

/** Environment the probe runs the bundle with: a dev-server URL that a packaged app must ignore. */
export const PROBE_DEV_URL = 'http://127.0.0.1:24799/';
