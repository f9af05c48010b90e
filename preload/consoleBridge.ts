import {
  CHANNEL_NAMES,
  channelOf,
  EVENT_CHANNEL,
  EVENT_NAMES,
  type ConsoleApi,
  type ConsoleEventName,
  type ConsoleEvents,
  type ConsoleMethods,
} from '../shared/ipc/contract';
import { fail } from '../shared/ipc/result';

/** The parts of `ipcRenderer` the bridge uses (so it can be built on a stand-in). */
export interface RendererIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

type AnyHandler = (payload: unknown) => void;

/** The contract's events; `on` refuses any other name. */
const KNOWN_EVENTS: ReadonlySet<string> = new Set<ConsoleEventName>(EVENT_NAMES);

/**
 * Builds the object the preload exposes as `window.descartes`: one method per contract
 * channel, each forwarding its single argument to `ipcRenderer.invoke(channelOf(name), input)`,
 * plus `on(name, handler)`. Events arrive as batches (arrays of envelopes) on one
 * `EVENT_CHANNEL` listener, attached while anyone listens; each envelope goes to the handlers
 * of its name. Neither `ipcRenderer` nor Electron's event objects are reachable from it.
 */
export function createConsoleBridge(ipc: RendererIpc): ConsoleApi {
  const handlers = new Map<string, Set<AnyHandler>>();
  let listening = false;

  const dispatch = (_event: unknown, batch: unknown): void => {
    if (!Array.isArray(batch)) return;
    for (const envelope of batch as unknown[]) {
      if (typeof envelope !== 'object' || envelope === null) continue;
      const { name, payload } = envelope as { name?: unknown; payload?: unknown };
      if (typeof name !== 'string') continue;
      const set = handlers.get(name);
      if (set === undefined) continue;
      for (const handler of [...set]) {
        try {
          handler(payload);
        } catch (error) {
          // One broken listener must not starve the others of the rest of the batch.
          console.error(`descartes: a "${name}" event handler threw`, error);
        }
      }
    }
  };

  const listenerCount = (): number => {
    let n = 0;
    for (const set of handlers.values()) n += set.size;
    return n;
  };

  const on = <K extends ConsoleEventName>(
    name: K,
    handler: (payload: ConsoleEvents[K]) => void,
  ): (() => void) => {
    if (!KNOWN_EVENTS.has(name)) throw new TypeError(`Unknown console event "${name}"`);
    if (typeof handler !== 'function') throw new TypeError('An event handler must be a function');
    // Wrap so the same function registered twice gets two independent subscriptions.
    const entry: AnyHandler = (payload) => {
      handler(payload as ConsoleEvents[K]);
    };
    let set = handlers.get(name);
    if (set === undefined) {
      set = new Set();
      handlers.set(name, set);
    }
    set.add(entry);
    if (!listening) {
      ipc.on(EVENT_CHANNEL, dispatch);
      listening = true;
    }
    return () => {
      handlers.get(name)?.delete(entry);
      if (listening && listenerCount() === 0) {
        ipc.removeListener(EVENT_CHANNEL, dispatch);
        listening = false;
      }
    };
  };

  const methods = Object.fromEntries(
    CHANNEL_NAMES.map((name) => {
      const channel = channelOf(name);
      // Only the one argument crosses: extra arguments cannot smuggle anything to main.
      const method = (input?: unknown): Promise<unknown> =>
        ipc.invoke(channel, input).catch((error: unknown) =>
          // Only a main process without our handlers (starting, crashed, out of date) gets here.
          fail(
            'internal',
            `The console's main process did not answer ${name} (${error instanceof Error ? error.message : String(error)}); restart the console.`,
          ),
        );
      return [name, method];
    }),
  ) as unknown as ConsoleMethods;

  const api = { ...methods, on } satisfies ConsoleApi;
  return Object.freeze(api);
}
