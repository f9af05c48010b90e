/**
 * The 'electron' module `npm run check:package` puts under the extracted packed app
 * (bundled to `node_modules/electron/index.js` there, never shipped) so the app's own main
 * bundle runs with Node. It records what the bundle asks of Electron, then, once the window
 * loads its page, requests `PROBE_URLS` through the app's protocol handler, calls `appInfo`
 * over the IPC as the window and as a file:// page, and quits the app. `app.exit` writes the
 * report to `DESCARTES_PROBE_REPORT` and ends the process.
 *
 * Electron's behaviour it mimics: privileged schemes, `protocol.handle` and utility processes
 * at the right time of the app's life; `utilityProcess.fork` really runs the script with this
 * Node, with stdio and exit codes as Electron gives them.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { channelOf } from '../../shared/ipc';
import { NodeUtilityProcess, type NodeForkOptions } from './nodeUtilityProcess';
import { PROBE_URLS, type ProbeFork, type ProbeReport, type ProbeResponse } from './packageProbeReport';

type Handler = (request: Request) => Response | Promise<Response>;
type IpcHandler = (event: { senderFrame: Frame | null }, arg?: unknown) => unknown;

interface Frame {
  url: string;
  readonly processId: number;
  readonly routingId: number;
  readonly parent: null;
}

/** Where the app's root is: this file is `<root>/node_modules/electron/index.js`. */
const appRoot = join(__dirname, '..', '..');
let ready = false;
const report = {
  privileged: [] as ProbeReport['privileged'],
  handled: [] as string[],
  loads: [] as string[],
  responses: [] as ProbeResponse[],
  ipc: { fromApp: null as unknown, fromFile: null as unknown },
  forks: [] as ProbeFork[],
  dialogs: [] as string[],
  exitCode: null as number | null,
};
const protocolHandlers = new Map<string, Handler>();
const ipcHandlers = new Map<string, IpcHandler>();
const children: { fork: Omit<ProbeFork, 'aliveAtExit'>; alive: () => boolean }[] = [];

class ProbeApp extends EventEmitter {
  readonly isPackaged = true;
  private readonly paths = new Map<string, string>();
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    ready = true;
    return Promise.resolve();
  }
  getPath(name: string): string {
    return this.paths.get(name) ?? join(process.cwd(), name);
  }
  setPath(name: string, value: string): void {
    this.paths.set(name, value);
  }
  getVersion(): string {
    return '0.0.0-probe';
  }
  quit(): void {
    this.emit('before-quit', { preventDefault: () => undefined });
  }
  exit(code = 0): void {
    report.exitCode = code;
    const forks = children.map(({ fork, alive }) => ({ ...fork, aliveAtExit: alive() }));
    writeFileSync(
      process.env.DESCARTES_PROBE_REPORT ?? 'probe-report.json',
      JSON.stringify({ ...report, forks }),
    );
    process.exit(code);
  }
}

export const app = new ProbeApp();

export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown): void {
    report.privileged.push({ schemes, afterReady: ready });
  },
  handle(scheme: string, handler: Handler): void {
    if (!ready) throw new Error('protocol.handle must be called after app is ready');
    report.handled.push(scheme);
    protocolHandlers.set(scheme, handler);
  },
};

export const ipcMain = {
  handle(channel: string, fn: IpcHandler): void {
    ipcHandlers.set(channel, fn);
  },
  removeHandler(channel: string): void {
    ipcHandlers.delete(channel);
  },
};

export const shell = { openExternal: (): Promise<void> => Promise.resolve() };

export const dialog = {
  showErrorBox(title: string, content: string): void {
    report.dialogs.push(`${title}: ${content}`);
  },
  showMessageBox(options: { title?: string; message: string }): Promise<{ response: number }> {
    report.dialogs.push(`${options.title ?? ''}: ${options.message}`);
    return Promise.resolve({ response: 0 });
  },
};

class ProbeWebContents extends EventEmitter {
  readonly id = 1;
  readonly mainFrame: Frame = { url: '', processId: 1, routingId: 1, parent: null };
  readonly session = {
    webRequest: { onHeadersReceived: (): void => undefined },
    setPermissionRequestHandler: (): void => undefined,
    setPermissionCheckHandler: (): void => undefined,
  };
  setWindowOpenHandler(): void {
    // The probe opens no windows.
  }
  send(): void {
    // Event batches to the page: nothing listens.
  }
  isDestroyed(): boolean {
    return false;
  }
}

export class BrowserWindow extends EventEmitter {
  readonly webContents = new ProbeWebContents();
  constructor(readonly options: unknown) {
    super();
  }
  loadURL(url: string): Promise<void> {
    report.loads.push(`url ${url}`);
    this.webContents.mainFrame.url = url;
    setImmediate(() => void probe(this));
    return Promise.resolve();
  }
  loadFile(path: string): Promise<void> {
    report.loads.push(`file ${path}`);
    this.webContents.mainFrame.url = pathToFileURL(path).href;
    setImmediate(() => void probe(this));
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return false;
  }
  isMinimized(): boolean {
    return false;
  }
  show(): void {
    // Nothing to show.
  }
  focus(): void {
    // Nothing to focus.
  }
  restore(): void {
    // Nothing to restore.
  }
}

export const utilityProcess = {
  fork(modulePath: string, args: string[] = [], options: NodeForkOptions = {}): NodeUtilityProcess {
    if (!ready) throw new TypeError('utilityProcess cannot be created before app is ready.');
    // The packed app asks for piped output; what it reads there is what the probe checks.
    const child = new NodeUtilityProcess(modulePath, args, { ...options, stdio: 'pipe' });
    children.push({
      fork: {
        modulePath: relative(appRoot, modulePath).split(sep).join('/'),
        serviceName: options.serviceName ?? null,
        stdio: options.stdio ?? null,
        runAsNode: options.env !== undefined && 'ELECTRON_RUN_AS_NODE' in options.env,
      },
      alive: () => child.pid !== undefined,
    });
    return child;
  },
};

let probed = false;

/** Requests the pages, calls the IPC like the window and like a file:// page, then quits. */
async function probe(win: BrowserWindow): Promise<void> {
  if (probed) return;
  probed = true;
  for (const url of PROBE_URLS) {
    const handler = protocolHandlers.get(url.slice(0, url.indexOf(':')));
    if (handler === undefined) continue;
    try {
      const res = await handler(new Request(url));
      report.responses.push({
        url,
        status: res.status,
        contentType: res.headers.get('content-type'),
        csp: res.headers.get('content-security-policy'),
        body: (await res.text()).slice(0, 256 * 1024),
      });
    } catch (error) {
      report.responses.push({ url, status: 0, contentType: null, csp: null, body: String(error) });
    }
  }
  const appInfo = ipcHandlers.get(channelOf('appInfo'));
  const frame = win.webContents.mainFrame;
  if (appInfo !== undefined) {
    report.ipc.fromApp = await appInfo({ senderFrame: frame });
    const shown = frame.url;
    frame.url = 'file:///etc/passwd';
    report.ipc.fromFile = await appInfo({ senderFrame: frame });
    frame.url = shown;
  }
  app.quit();
}
