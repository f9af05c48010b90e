/**
 * A small hand-written stand-in for the 'electron' module (its binary cannot run here). It
 * records what our code asks of Electron so tests can assert it, and mimics the few behaviours
 * that matter (e.g. `ipcMain.handle` refuses a second handler for a channel, privileged schemes
 * and utility processes are refused at the wrong time of the app's life, as Electron does).
 * `utilityProcess.fork` runs the script for real with this Node, so what the app starts in a
 * utility process really runs.
 * Use: `vi.mock('electron', async () => (await import('./electronStandIn')).electron)`.
 */
import { NodeUtilityProcess, type NodeForkOptions } from '../../../../scripts/package/nodeUtilityProcess';

type Listener = (...args: never[]) => unknown;

export class FakeEmitter {
  readonly listeners = new Map<string, Listener[]>();
  on(name: string, fn: Listener): this {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
    return this;
  }
  once(name: string, fn: Listener): this {
    const wrapper = ((...args: never[]) => {
      this.removeListener(name, wrapper);
      return fn(...args);
    }) as Listener;
    return this.on(name, wrapper);
  }
  removeListener(name: string, fn: Listener): this {
    this.listeners.set(
      name,
      (this.listeners.get(name) ?? []).filter((l) => l !== fn),
    );
    return this;
  }
  listenerCount(name: string): number {
    return this.listeners.get(name)?.length ?? 0;
  }
  emit(name: string, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) (fn as (...a: unknown[]) => unknown)(...args);
  }
}

/** An Electron-style event whose `preventDefault` is recorded. */
export class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeWebFrame {
  constructor(
    public url: string,
    readonly processId = 1,
    readonly routingId = 1,
    readonly parent: FakeWebFrame | null = null,
  ) {}
}

type HeadersListener = (
  details: { url: string; responseHeaders?: Record<string, string[]> },
  callback: (response: { responseHeaders?: Record<string, string | string[]> }) => void,
) => void;

export class FakeSession {
  headersListener: HeadersListener | null = null;
  permissionRequestHandler:
    ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | null = null;
  permissionCheckHandler: ((wc: unknown, permission: string) => boolean) | null = null;
  readonly webRequest = {
    onHeadersReceived: (listener: HeadersListener): void => {
      this.headersListener = listener;
    },
  };
  setPermissionRequestHandler(fn: FakeSession['permissionRequestHandler']): void {
    this.permissionRequestHandler = fn;
  }
  setPermissionCheckHandler(fn: FakeSession['permissionCheckHandler']): void {
    this.permissionCheckHandler = fn;
  }
}

let nextContentsId = 1;

export class FakeWebContents extends FakeEmitter {
  readonly id = nextContentsId++;
  readonly session = new FakeSession();
  readonly mainFrame: FakeWebFrame;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  destroyed = false;
  constructor(url: string) {
    super();
    this.mainFrame = new FakeWebFrame(url, 1, this.id);
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(fn: FakeWebContents['windowOpenHandler']): void {
    this.windowOpenHandler = fn;
  }
}

export class FakeBrowserWindow extends FakeEmitter {
  static readonly instances: FakeBrowserWindow[] = [];
  /** The URL the next window's main frame reports (the app page by default in tests). */
  static nextUrl = 'app://console/';
  readonly webContents: FakeWebContents;
  readonly loaded: { kind: 'file' | 'url'; target: string }[] = [];
  shown = 0;
  focused = 0;
  restored = 0;
  minimized = false;
  destroyed = false;
  constructor(readonly options: Record<string, unknown>) {
    super();
    this.webContents = new FakeWebContents(FakeBrowserWindow.nextUrl);
    FakeBrowserWindow.instances.push(this);
  }
  loadFile(path: string): Promise<void> {
    this.loaded.push({ kind: 'file', target: path });
    return Promise.resolve();
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push({ kind: 'url', target: url });
    return Promise.resolve();
  }
  show(): void {
    this.shown++;
  }
  focus(): void {
    this.focused++;
  }
  restore(): void {
    this.restored++;
    this.minimized = false;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** What Electron does when the user closes the window. */
  close(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

type InvokeHandler = (event: { senderFrame: FakeWebFrame | null; sender?: unknown }, arg: unknown) => unknown;

export class FakeIpcMain {
  readonly handlers = new Map<string, InvokeHandler>();
  readonly handleCalls: string[] = [];
  handle(channel: string, fn: InvokeHandler): void {
    this.handleCalls.push(channel);
    if (this.handlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, fn);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** Calls a channel as Electron would for `ipcRenderer.invoke(channel, arg)` from `frame`. */
  async invoke(channel: string, frame: FakeWebFrame | null, arg?: unknown): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
    return await handler({ senderFrame: frame }, arg);
  }
}

export class FakeApp extends FakeEmitter {
  lockGranted = true;
  lockRequests = 0;
  quitCalls = 0;
  readonly exitCodes: number[] = [];
  readonly paths = new Map<string, string>([
    ['appData', '/tmp/appData'],
    ['userData', '/tmp/appData/Descartes Console'],
  ]);
  isPackaged = false;
  whenReadyCalls = 0;
  /** Set by `whenReady()`: what Electron calls the `ready` event. */
  ready = false;
  requestSingleInstanceLock(): boolean {
    this.lockRequests++;
    return this.lockGranted;
  }
  quit(): void {
    this.quitCalls++;
  }
  exit(code = 0): void {
    this.exitCodes.push(code);
  }
  getPath(name: string): string {
    const p = this.paths.get(name);
    if (p === undefined) throw new Error(`Failed to get '${name}' path`);
    return p;
  }
  setPath(name: string, value: string): void {
    this.paths.set(name, value);
  }
  whenReady(): Promise<void> {
    this.whenReadyCalls++;
    this.ready = true;
    return Promise.resolve();
  }
  getVersion(): string {
    return '0.1.0-test';
  }
  /** Emits `before-quit` with a fresh event and returns it. */
  beforeQuit(): FakeEvent {
    const event = new FakeEvent();
    this.emit('before-quit', event);
    return event;
  }
}

interface PrivilegedScheme {
  scheme: string;
  privileges?: Record<string, boolean>;
}

/** `protocol` of the default session: privileged schemes before ready, `handle` after. */
export class FakeProtocol {
  readonly privileged: PrivilegedScheme[] = [];
  readonly handlers = new Map<string, (request: Request) => Response | Promise<Response>>();
  constructor(private readonly app: FakeApp) {}
  registerSchemesAsPrivileged(schemes: PrivilegedScheme[]): void {
    // Electron: "can only be used before the ready event of the app module gets emitted".
    if (this.app.ready)
      throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    this.privileged.push(...schemes);
  }
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    if (!this.app.ready) throw new Error('protocol.handle must be called after app is ready');
    if (this.handlers.has(scheme)) throw new Error(`Failed to register protocol: ${scheme}`);
    this.handlers.set(scheme, handler);
  }
  unhandle(scheme: string): void {
    this.handlers.delete(scheme);
  }
  isProtocolHandled(scheme: string): boolean {
    return this.handlers.has(scheme);
  }
  /** What the page's request for `url` gets: the handler's response, or an error like a failed load. */
  async request(url: string, init?: RequestInit): Promise<Response> {
    const scheme = url.slice(0, url.indexOf(':'));
    const handler = this.handlers.get(scheme);
    if (handler === undefined) throw new Error(`net::ERR_UNKNOWN_URL_SCHEME ${url}`);
    return await handler(new Request(url, init));
  }
}

export type FakeForkOptions = NodeForkOptions;

/** A utility process whose script really runs (see `NodeUtilityProcess`); it has no parentPort. */
export class FakeUtilityProcess extends NodeUtilityProcess {
  postMessage(): void {
    throw new Error('the stand-in utility process has no parentPort');
  }
}

/** `utilityProcess`: refuses to fork before the app is ready, as Electron does; records every fork. */
export class FakeUtilityProcessModule {
  readonly forks: FakeUtilityProcess[] = [];
  constructor(private readonly app: FakeApp) {}
  fork(modulePath: string, args: string[] = [], options: FakeForkOptions = {}): FakeUtilityProcess {
    if (!this.app.ready) throw new TypeError('utilityProcess cannot be created before app is ready.');
    const child = new FakeUtilityProcess(modulePath, args, options);
    this.forks.push(child);
    return child;
  }
}

export class FakeIpcRenderer {
  readonly invokes: { channel: string; args: unknown[] }[] = [];
  readonly onCalls: string[] = [];
  readonly removeCalls: string[] = [];
  readonly listeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
  /** What the next `invoke` does (default: resolve `{ ok: true, value: <channel> }`). */
  reply: (channel: string, args: unknown[]) => Promise<unknown> = (channel) =>
    Promise.resolve({ ok: true, value: channel });
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invokes.push({ channel, args });
    return this.reply(channel, args);
  }
  on(channel: string, fn: (event: unknown, ...args: unknown[]) => void): this {
    this.onCalls.push(channel);
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), fn]);
    return this;
  }
  removeListener(channel: string, fn: (event: unknown, ...args: unknown[]) => void): this {
    this.removeCalls.push(channel);
    this.listeners.set(
      channel,
      (this.listeners.get(channel) ?? []).filter((l) => l !== fn),
    );
    return this;
  }
  /** What main's `webContents.send(channel, ...args)` looks like in the renderer. */
  deliver(channel: string, ...args: unknown[]): void {
    const event = { sender: this, senderId: 0, ports: [] };
    for (const fn of [...(this.listeners.get(channel) ?? [])]) fn(event, ...args);
  }
}

export class FakeContextBridge {
  readonly exposed = new Map<string, unknown>();
  exposeInMainWorld(key: string, api: unknown): void {
    if (this.exposed.has(key)) throw new Error(`Cannot bind an API on top of an existing property: ${key}`);
    this.exposed.set(key, api);
  }
}

interface MessageBox {
  type?: string;
  title?: string;
  message: string;
  detail?: string;
}

interface StandInState {
  readonly shellCalls: string[];
  readonly errorBoxes: { title: string; content: string }[];
  readonly messageBoxes: MessageBox[];
  readonly electron: ElectronStandIn;
}

export interface ElectronStandIn {
  readonly app: FakeApp;
  readonly ipcMain: FakeIpcMain;
  readonly ipcRenderer: FakeIpcRenderer;
  readonly contextBridge: FakeContextBridge;
  readonly BrowserWindow: typeof FakeBrowserWindow;
  readonly protocol: FakeProtocol;
  readonly utilityProcess: FakeUtilityProcessModule;
  readonly shell: { openExternal(url: string): Promise<void> };
  readonly dialog: {
    showErrorBox(title: string, content: string): void;
    showMessageBox(options: MessageBox): Promise<{ response: number; checkboxChecked: boolean }>;
  };
}

function createState(): StandInState {
  const shellCalls: string[] = [];
  const errorBoxes: { title: string; content: string }[] = [];
  const messageBoxes: MessageBox[] = [];
  const app = new FakeApp();
  return {
    shellCalls,
    errorBoxes,
    messageBoxes,
    electron: {
      app,
      protocol: new FakeProtocol(app),
      utilityProcess: new FakeUtilityProcessModule(app),
      ipcMain: new FakeIpcMain(),
      ipcRenderer: new FakeIpcRenderer(),
      contextBridge: new FakeContextBridge(),
      BrowserWindow: FakeBrowserWindow,
      shell: {
        openExternal: (url: string): Promise<void> => {
          shellCalls.push(url);
          return Promise.resolve();
        },
      },
      dialog: {
        showErrorBox: (title: string, content: string): void => {
          errorBoxes.push({ title, content });
        },
        showMessageBox: (options: MessageBox) => {
          messageBoxes.push(options);
          return Promise.resolve({ response: 0, checkboxChecked: false });
        },
      },
    },
  };
}

/**
 * One state per test file's realm: vitest may evaluate this module more than once (the mock
 * factory and the test can get different instances), so the fakes live on globalThis.
 */
const holder = globalThis as { __descartesElectronStandIn?: StandInState };
const state = (holder.__descartesElectronStandIn ??= createState());

export const shellCalls = state.shellCalls;
export const errorBoxes = state.errorBoxes;
export const messageBoxes = state.messageBoxes;
/** The module object `vi.mock('electron', …)` returns. Reset it between tests with {@link resetElectron}. */
export const electron: ElectronStandIn = state.electron;

/**
 * Resets every fake in place (vitest caches the mocked module object, so the instances must
 * stay the same ones).
 */
export function resetElectron(): void {
  Object.assign(electron.app, new FakeApp());
  electron.app.listeners.clear();
  electron.ipcMain.handlers.clear();
  electron.ipcMain.handleCalls.length = 0;
  const fresh = new FakeIpcRenderer();
  electron.ipcRenderer.invokes.length = 0;
  electron.ipcRenderer.onCalls.length = 0;
  electron.ipcRenderer.removeCalls.length = 0;
  electron.ipcRenderer.listeners.clear();
  electron.ipcRenderer.reply = fresh.reply;
  electron.contextBridge.exposed.clear();
  electron.BrowserWindow.instances.length = 0;
  electron.BrowserWindow.nextUrl = 'app://console/';
  electron.protocol.privileged.length = 0;
  electron.protocol.handlers.clear();
  electron.utilityProcess.forks.length = 0;
  shellCalls.length = 0;
  errorBoxes.length = 0;
  messageBoxes.length = 0;
}
