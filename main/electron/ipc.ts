import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent, type WebFrameMain } from 'electron';
import {
  CHANNEL_NAMES,
  channelOf,
  EVENT_CHANNEL,
  fail,
  type ConsoleEventEnvelope,
  type IpcResult,
} from '../../shared/ipc';
import { invokeChannel, type ClientContext, type ConsoleHandlers } from '../core/ipc';
import { isAppUrl, type AppPage } from './appPage';

export interface IpcRegistrarOptions {
  /** The console window: the only sender accepted, and where events are pushed. */
  readonly window: BrowserWindow;
  /** The page the window shows; a sender frame outside its origin ({@link isAppUrl}) is refused. */
  readonly page: AppPage;
  readonly handlers: ConsoleHandlers;
}

export interface IpcRegistration {
  /** The window as a client of the handlers (its subscriptions end when the window closes). */
  readonly client: ClientContext;
  /** Removes every channel handler and closes the client. Idempotent. */
  dispose(): void;
}

/**
 * The IPC registrar, the ONLY caller of `ipcMain.handle`: one handler per contract channel.
 * Each call is refused with `forbidden` unless it comes from the window's top frame showing
 * the app's origin (`app://console`, or the dev server's; {@link isAppUrl} is the one rule the
 * navigation guards share); otherwise `invokeChannel` validates the input with the channel's schema and
 * runs the handler. Handlers resolve an `IpcResult` and never throw across the boundary.
 * Events go to the window as batches on `EVENT_CHANNEL`. Everything is released when the
 * window closes.
 */
export function registerIpc(options: IpcRegistrarOptions): IpcRegistration {
  const { window: win, page, handlers } = options;
  const contents = win.webContents;
  const closers: (() => void)[] = [];
  let closed = false;

  const client: ClientContext = {
    id: `electron:${contents.id}`,
    push(envelopes: ConsoleEventEnvelope[]): void {
      if (closed || win.isDestroyed() || contents.isDestroyed()) return;
      contents.send(EVENT_CHANNEL, envelopes);
    },
    onClose(fn: () => void): void {
      if (closed) fn();
      else closers.push(fn);
    },
  };

  const dispose = (): void => {
    if (closed) return;
    closed = true;
    for (const name of CHANNEL_NAMES) ipcMain.removeHandler(channelOf(name));
    for (const fn of closers.splice(0)) {
      try {
        fn();
      } catch (error) {
        console.error(`descartes: releasing a window's subscriptions failed: ${String(error)}`);
      }
    }
  };

  for (const name of CHANNEL_NAMES) {
    ipcMain.handle(
      channelOf(name),
      (event: IpcMainInvokeEvent, arg: unknown): Promise<IpcResult<unknown>> => {
        const refusal = senderRefusal(event, win, page);
        if (refusal !== null) return Promise.resolve(fail('forbidden', refusal));
        return invokeChannel(handlers, name, arg, client);
      },
    );
  }
  win.once('closed', dispose);
  return { client, dispose };
}

/** Why `event` is not from our window's top frame showing the app, or null when it is. */
export function senderRefusal(event: IpcMainInvokeEvent, win: BrowserWindow, page: AppPage): string | null {
  const frame = event.senderFrame;
  if (win.isDestroyed()) return 'The console window is closed; this call was refused.';
  if (frame === null) return 'The calling frame is gone (it navigated or closed); this call was refused.';
  if (!isTopFrameOf(frame, win)) {
    return 'Only the console window itself may call the console API; this frame was refused.';
  }
  if (!isAppUrl(frame.url, page)) {
    return `Only the console's own page may call the console API; ${describeUrl(frame.url)} was refused.`;
  }
  return null;
}

function isTopFrameOf(frame: WebFrameMain, win: BrowserWindow): boolean {
  const main = win.webContents.mainFrame;
  // Electron hands out one WebFrameMain per frame, but compare ids too in case a wrapper is recreated.
  return (
    frame === main ||
    (frame.processId === main.processId && frame.routingId === main.routingId && frame.parent === null)
  );
}

function describeUrl(url: string): string {
  return url.length > 200 ? `"${url.slice(0, 200)}…"` : `"${url}"`;
}
