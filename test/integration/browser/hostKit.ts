/**
 * Shared pieces of the browser host tests: a real core in a temp data dir, a real agent server,
 * the handlers and the host, plus a small WebSocket test client speaking the wire format.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBrowserHost, type BrowserHost } from '../../../main/browser/browserHost';
import { parseWire, stringifyWire } from '../../../shared/ipc/wireJson';
import { createConsoleHandlers, type ConsoleHandlers } from '../../../main/core/ipc/consoleHandlers';
import { openConsoleCore, type ConsoleCore } from '../../../main/core/services/consoleCore';
import { securityOf, seedClientKey } from '../transport/curveKit';
import type { ConsoleEventEnvelope, IpcResult } from '../../../shared/ipc';
import { nodeBackends } from '../../helpers/agents';
import { startServerProcess, type ServerProcess } from '../../helpers/serverProcess';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';

export interface HostRig {
  dir: TempDir;
  core: ConsoleCore;
  server: ServerProcess;
  serverId: string;
  handlers: ConsoleHandlers;
  host: BrowserHost;
  rendererDir: string;
  close(): Promise<void>;
}

/** A fake built renderer: index.html plus one asset. */
export function writeRenderer(dir: string): string {
  const rendererDir = join(dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(
    join(rendererDir, 'index.html'),
    '<!doctype html><title>Descartes</title><script src="./assets/app.js"></script>',
  );
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  return rendererDir;
}

/** Agent server on `port`/`port+1`, core with it as a profile (online), handlers and a host on `hostPort`. */
export async function startRig(port: number, hostPort: number): Promise<HostRig> {
  const dir = await createTempDir('descartes-browser-');
  const server = await startServerProcess({
    port,
    config: { backends: nodeBackends() },
    stateDir: join(dir.path, 'server-state'),
    args: ['--heartbeat-ms', '300'],
  });
  // The console's key is the one the harness server allows; the profile pins the server's key.
  const core = openConsoleCore({ dataDir: seedClientKey(join(dir.path, 'data')), requestTimeoutMs: 10_000 });
  const profile = core.registry.add({
    name: 'test server',
    endpoint: server.bind,
    heartbeatIntervalMs: 500,
    security: securityOf(server),
  });
  await waitUntil(() => (core.registry.status(profile.id).state === 'online' ? true : undefined), {
    timeoutMs: 15_000,
    what: 'the server to be online',
  });
  const handlers = createConsoleHandlers(core, {
    info: { version: '9.9.9', host: 'browser', embeddedServer: null },
  });
  const rendererDir = writeRenderer(dir.path);
  const host = await startBrowserHost({ handlers, rendererDir, port: hostPort });
  return {
    dir,
    core,
    server,
    serverId: profile.id,
    handlers,
    host,
    rendererDir,
    close: async () => {
      await host.close();
      handlers.dispose();
      await core.dispose(0);
      await server.stop();
      await dir.remove();
    },
  };
}

/** The `ws` package's WebSocket standing in for the browser's, sending the Origin a page would. */
export function webSocketWithOrigin(origin: string): typeof globalThis.WebSocket {
  class PageWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { headers: { Origin: origin } });
    }
  }
  return PageWebSocket as unknown as typeof globalThis.WebSocket;
}

/** A WebSocket client of the host that records pushed events. */
export class WireClient {
  readonly events: ConsoleEventEnvelope[] = [];
  readonly batches: number[] = [];
  private nextId = 1;
  private readonly waiters = new Map<number | null, (r: IpcResult<unknown>) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = parseWire(data.toString('utf8')) as {
        id?: number | null;
        result?: IpcResult<unknown>;
        events?: ConsoleEventEnvelope[];
      };
      if (msg.events) {
        this.batches.push(Date.now());
        this.events.push(...msg.events);
      } else if (msg.id !== undefined && msg.result) {
        const w = this.waiters.get(msg.id);
        this.waiters.delete(msg.id);
        w?.(msg.result);
      }
    });
  }

  /** Opens a connection; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, origin: string | undefined): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, origin === undefined ? {} : { headers: { Origin: origin } });
      ws.once('open', () => {
        resolve(new WireClient(ws));
      });
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`refused: ${String(res.statusCode)}`));
      });
      ws.once('error', reject);
    });
  }

  call<T = unknown>(method: string, input?: unknown): Promise<IpcResult<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiters.set(id, resolve as (r: IpcResult<unknown>) => void);
      this.ws.send(stringifyWire(input === undefined ? { id, method } : { id, method, input }));
    });
  }

  /** Sends raw text and waits for the reply that carries `id: null`. */
  raw(text: string): Promise<IpcResult<unknown>> {
    return new Promise((resolve) => {
      this.waiters.set(null, resolve);
      this.ws.send(text);
    });
  }

  async value<T>(method: string, input?: unknown): Promise<T> {
    const r = await this.call<T>(method, input);
    if (!r.ok) throw new Error(`${method} failed: ${r.error.code}: ${r.error.message}`);
    return r.value;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      this.ws.once('close', () => {
        resolve();
      });
      this.ws.close();
    });
  }
}

/** The host's WebSocket URL with (or without) its token. */
export function wsUrl(host: BrowserHost, token: string | null = host.token): string {
  return `ws://127.0.0.1:${host.port}/ws${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
}
