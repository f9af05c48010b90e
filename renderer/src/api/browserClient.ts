/**
 * The `ConsoleApi` over the browser host's WebSocket (`main/browser`). Plain browser code: no
 * Node imports. Like the preload's object it never throws: every failure is an `IpcResult`.
 *
 * - Requests while disconnected wait up to `connectWaitMs` for the connection, then resolve
 *   `{ok:false, error:{code:'offline'}}`. Requests on the wire when the connection drops resolve
 *   `timeout` (the command may have run).
 * - Reconnects by itself with capped exponential backoff and jitter. After a reconnect it
 *   re-creates the status and log subscriptions (ids the caller holds stay valid), emits a
 *   `resync` per subscribed server, a `backfill` per log tail and a fresh `servers` event, since
 *   events were missed meanwhile.
 */
import {
  CHANNEL_NAMES,
  fail,
  type ChannelName,
  type ConsoleApi,
  type ConsoleEventEnvelope,
  type ConsoleEventName,
  type ConsoleEvents,
  type IpcResult,
} from '../../../shared/ipc';
import { parseWire, stringifyWire } from '../../../shared/ipc/wireJson';
import { storedTailOf, type NumberedOutputPage } from '../../../shared/domain/numberedOutput';

export interface BrowserClientOptions {
  /** How long a request waits for a connection before resolving `offline`, ms; default 3000. */
  connectWaitMs?: number;
  /** First reconnect delay, ms; default 250 (doubles up to `maxBackoffMs`). */
  minBackoffMs?: number;
  /** Longest reconnect delay, ms; default 5000. */
  maxBackoffMs?: number;
  /** Lines fetched to refill a log tail after a reconnect; default 500. */
  backfillLines?: number;
  /** The WebSocket constructor; default the global one (tests may pass the `ws` package's). */
  WebSocketImpl?: typeof WebSocket;
}

/** A {@link ConsoleApi} plus what the page needs to manage the connection. */
export interface BrowserClient extends ConsoleApi {
  /** Whether the WebSocket is open right now. */
  readonly connected: boolean;
  /** Closes the connection for good; pending and later calls resolve `offline`. */
  close(): void;
}

type Handler = (payload: never) => void;
type Call = (input?: unknown) => Promise<IpcResult<unknown>>;

interface Subscription {
  readonly method: 'subscribeStatus' | 'tailLogs';
  readonly input: { serverId: string; agentId?: string };
  /** The id the host knows it by now (changes on every reconnect). */
  current: string | null;
}

const NOT_CONNECTED =
  'Not connected to the console host (is "npm start" still running?). It reconnects by itself; try again in a moment.';
const LOST =
  'The connection to the console host was lost before the reply: the command may or may not have run. Check the queue and the agent before trying again.';

/**
 * Creates the client and starts connecting.
 * @param url the host's WebSocket URL, e.g. `ws://127.0.0.1:5173/ws`
 * @param token the access token from the page URL (sent as `?token=`; the cookie also works)
 */
export function createBrowserClient(
  url: string,
  token: string,
  options: BrowserClientOptions = {},
): BrowserClient {
  const WS = options.WebSocketImpl ?? globalThis.WebSocket;
  const connectWaitMs = options.connectWaitMs ?? 3000;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  const backfillLines = options.backfillLines ?? 500;
  const fullUrl = token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url;

  let ws: WebSocket | null = null;
  let open = false;
  let closed = false;
  let everOpened = false;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let nextId = 1;
  const pending = new Map<number, (r: IpcResult<unknown>) => void>();
  const waiting = new Set<{ send: () => void; give: () => void }>();
  const listeners = new Map<ConsoleEventName, Set<Handler>>();
  const subs = new Map<string, Subscription>();
  const byCurrent = new Map<string, string>();

  const emit = (envelope: ConsoleEventEnvelope): void => {
    let e = envelope;
    if (e.name === 'logs' || e.name === 'backfill') {
      const original = byCurrent.get(e.payload.subscriptionId);
      if (original === undefined) return; // a tail we already unsubscribed
      e = { ...e, payload: { ...e.payload, subscriptionId: original } } as ConsoleEventEnvelope;
    }
    for (const h of listeners.get(e.name) ?? []) {
      try {
        (h as (p: unknown) => void)(e.payload);
      } catch (err) {
        console.error(`console event handler for ${e.name} failed`, err);
      }
    }
  };

  const sendNow = (method: string, input: unknown): Promise<IpcResult<unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      let text: string;
      try {
        text = stringifyWire(input === undefined ? { id, method } : { id, method, input });
      } catch (e) {
        resolve(
          fail(
            'invalid_input',
            `The input could not be encoded: ${e instanceof Error ? e.message : String(e)}.`,
          ),
        );
        return;
      }
      if (ws === null || !open) {
        resolve(fail('offline', NOT_CONNECTED));
        return;
      }
      pending.set(id, resolve);
      try {
        ws.send(text);
      } catch {
        pending.delete(id);
        resolve(fail('offline', NOT_CONNECTED));
      }
    });

  const request = (method: string, input: unknown): Promise<IpcResult<unknown>> => {
    if (closed)
      return Promise.resolve(fail('offline', 'This console connection was closed; reload the page.'));
    if (open) return sendNow(method, input);
    return new Promise((resolve) => {
      const entry = {
        send: () => {
          clearTimeout(timer);
          waiting.delete(entry);
          void sendNow(method, input).then(resolve);
        },
        give: () => {
          clearTimeout(timer);
          waiting.delete(entry);
          resolve(fail('offline', NOT_CONNECTED));
        },
      };
      const timer = setTimeout(() => {
        entry.give();
      }, connectWaitMs);
      waiting.add(entry);
    });
  };

  const subscribe = async (method: Subscription['method'], input: Subscription['input']) => {
    const result = await request(method, input);
    if (!result.ok) return result;
    const id = (result.value as { subscriptionId: string }).subscriptionId;
    subs.set(id, { method, input, current: id });
    byCurrent.set(id, id);
    return result;
  };

  const unsubscribe = async (input: unknown): Promise<IpcResult<unknown>> => {
    const id = (input as { subscriptionId?: unknown } | undefined)?.subscriptionId;
    const sub = typeof id === 'string' ? subs.get(id) : undefined;
    if (sub === undefined || typeof id !== 'string') return request('unsubscribe', input);
    subs.delete(id);
    if (sub.current !== null) byCurrent.delete(sub.current);
    if (sub.current === null || !open) return { ok: true, value: null }; // the host already dropped it
    return request('unsubscribe', { subscriptionId: sub.current });
  };

  const restore = async (): Promise<void> => {
    byCurrent.clear();
    for (const [original, sub] of subs) {
      sub.current = null;
      const result = await sendNow(sub.method, sub.input);
      if (!subs.has(original)) continue;
      if (result.ok) {
        sub.current = (result.value as { subscriptionId: string }).subscriptionId;
        byCurrent.set(sub.current, original);
      }
      if (sub.method === 'subscribeStatus') {
        emit({
          name: 'resync',
          payload: { serverId: sub.input.serverId, reason: 'reconnected to the console host' },
        });
      } else if (sub.input.agentId !== undefined && sub.current !== null) {
        await refill(original, sub.input.serverId, sub.input.agentId);
      }
    }
    const servers = await sendNow('listServers', undefined);
    if (servers.ok) {
      const views = servers.value as { status: ConsoleEvents['servers'][number] }[];
      emit({ name: 'servers', payload: views.map((v) => v.status) });
    }
  };

  const refill = async (original: string, serverId: string, agentId: string): Promise<void> => {
    const count = await sendNow('queryOutput', { serverId, agentId, stream: 'both', limit: 0 });
    if (!count.ok) return;
    const total = Number((count.value as { total_lines?: number | bigint | null }).total_lines ?? 0);
    const page = await sendNow('queryOutput', {
      serverId,
      agentId,
      stream: 'both',
      offset: Math.max(0, total - backfillLines),
      limit: backfillLines,
    });
    const current = subs.get(original)?.current;
    if (page.ok && current) {
      emit({
        name: 'backfill',
        payload: { subscriptionId: current, ...storedTailOf(page.value as NumberedOutputPage) },
      });
    }
  };

  const onMessage = (data: unknown): void => {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = parseWire(data);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; result?: unknown; events?: unknown };
    if (Array.isArray(m.events)) {
      for (const e of m.events as ConsoleEventEnvelope[]) emit(e);
      return;
    }
    if (typeof m.id === 'number') {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m.result as IpcResult<unknown>);
    }
  };

  const connect = (): void => {
    reconnectTimer = null;
    if (closed) return;
    let socket: WebSocket;
    try {
      socket = new WS(fullUrl);
    } catch {
      scheduleReconnect();
      return;
    }
    ws = socket;
    socket.onopen = () => {
      if (ws !== socket) return;
      open = true;
      attempt = 0;
      const reconnected = everOpened;
      everOpened = true;
      for (const w of [...waiting]) w.send();
      if (reconnected) void restore();
    };
    socket.onmessage = (event: MessageEvent) => {
      onMessage(event.data);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      open = false;
      for (const resolve of pending.values()) resolve(fail('timeout', LOST));
      pending.clear();
      scheduleReconnect();
    };
    socket.onerror = () => {
      // A 'close' always follows; reconnecting happens there.
    };
  };

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer !== null) return;
    const base = Math.min(maxBackoff, minBackoff * 2 ** attempt);
    attempt++;
    reconnectTimer = setTimeout(connect, base * (0.5 + Math.random() / 2));
  };

  const api: Record<string, unknown> = {
    on: (name: ConsoleEventName, handler: Handler): (() => void) => {
      let set = listeners.get(name);
      if (set === undefined) {
        set = new Set();
        listeners.set(name, set);
      }
      set.add(handler);
      return () => {
        listeners.get(name)?.delete(handler);
      };
    },
    close: () => {
      closed = true;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      for (const w of [...waiting]) w.give();
      const socket = ws;
      ws = null;
      open = false;
      for (const resolve of pending.values()) resolve(fail('offline', 'This console connection was closed.'));
      pending.clear();
      socket?.close();
    },
  };
  Object.defineProperty(api, 'connected', { get: () => open, enumerable: true });
  for (const name of CHANNEL_NAMES) {
    api[name] = channelCall(name);
  }

  function channelCall(name: ChannelName): Call {
    if (name === 'subscribeStatus' || name === 'tailLogs') {
      return (input) => subscribe(name, input as Subscription['input']);
    }
    if (name === 'unsubscribe') return unsubscribe;
    return (input) => request(name, input);
  }

  connect();
  return api as unknown as BrowserClient;
}
