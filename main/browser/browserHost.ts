import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { fail, type ConsoleEventEnvelope, type IpcResult } from '../../shared/ipc';
import type { ClientContext } from '../core/ipc/clientContext';
import type { ConsoleHandlers } from '../core/ipc/consoleHandlers';
import { invokeChannel } from '../core/ipc/invokeChannel';
import { serveStatic } from './staticFiles';
import { parseWire, stringifyWire } from '../../shared/ipc/wireJson';
import { pageSecurityPolicy } from '../../shared/node/pageSecurityPolicy';

/** Query parameter and cookie carrying the access token (the renderer reads the same names). */
export const TOKEN_PARAM = 'token';
export const TOKEN_COOKIE = 'descartes_token';
/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';
/** Largest WebSocket message accepted, bytes (a request is far smaller; replies may be large). */
export const MAX_WS_MESSAGE_BYTES = 12 * 1024 * 1024;
/** A client that lets this much pile up unsent is closed (it reconnects and resynchronises). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export interface BrowserHostOptions {
  readonly handlers: ConsoleHandlers;
  /** The built renderer (`dist/renderer`, with `index.html`). */
  readonly rendererDir: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** The access token; a fresh random one (32 bytes, base64url) when left out. */
  readonly token?: string;
}

export interface BrowserHost {
  /** The URL to open, with the token: `http://127.0.0.1:PORT/?token=…`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`: the only Origin the WebSocket accepts. */
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  /** Live WebSocket clients. */
  clientCount(): number;
  /** Closes every WebSocket (releasing its subscriptions) and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/** A wire request: `{"id": n, "method": "listServers", "input": …}`. */
interface WireRequest {
  id: number;
  method: string;
  input?: unknown;
}

/**
 * Serves the console to a browser: the built renderer over HTTP and the `ConsoleApi` over a
 * WebSocket at `/ws`, on 127.0.0.1 only. Every request needs the random token (in the URL or,
 * once a page was opened with it, in an HttpOnly SameSite=Strict cookie); the WebSocket also
 * needs an Origin equal to the host's own origin, so other sites cannot drive it. Each
 * WebSocket is one {@link ClientContext}; closing it releases its subscriptions.
 *
 * Wire format (JSON, bigints as `{"$bigint":"…"}`): requests `{"id","method","input"}` →
 * `{"id","result":IpcResult}`; pushed events `{"events":[envelope…]}`.
 *
 * @throws (rejects) when the port cannot be bound (e.g. EADDRINUSE)
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  let port = 0;
  const origin = (): string => `http://127.0.0.1:${port}`;
  const sockets = new Set<WebSocket>();

  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader('Content-Security-Policy', pageSecurityPolicy({ webSockets: [`ws://127.0.0.1:${port}`] }));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  const server = createServer((req, res) => {
    securityHeaders(res);
    handleHttp(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (req.headers.host !== `127.0.0.1:${port}`) {
      text(res, 403, `Forbidden: open the console at ${origin()} (the address npm start printed).`);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      text(res, 405, 'Only GET and HEAD are served here.');
      return;
    }
    const url = new URL(req.url ?? '/', origin());
    const fromQuery = url.searchParams.get(TOKEN_PARAM);
    const presented = fromQuery ?? cookieValue(req.headers.cookie, TOKEN_COOKIE);
    if (presented === null || !sameToken(presented, token)) {
      text(
        res,
        403,
        'Forbidden: this console needs its access token. Open the full URL that npm start printed (it ends in ?token=…).',
      );
      return;
    }
    if (fromQuery !== null) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    if (!existsSync(join(options.rendererDir, 'index.html'))) {
      text(
        res,
        503,
        `The console's web page is not built (${options.rendererDir} has no index.html): run "npm run build:renderer" and reload.`,
      );
      return;
    }
    await serveStatic(options.rendererDir, url.pathname, res, method);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = checkUpgrade(req);
    if (refusal !== null) {
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(refusal)}\r\n\r\n${refusal}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      onConnection(ws);
    });
  });

  function checkUpgrade(req: IncomingMessage): string | null {
    const url = new URL(req.url ?? '/', origin());
    if (url.pathname !== WS_PATH) return `No WebSocket at ${url.pathname}; use ${WS_PATH}.`;
    if (req.headers.host !== `127.0.0.1:${port}`) return 'Wrong Host header.';
    if (req.headers.origin !== origin())
      return `Origin ${req.headers.origin ?? '(none)'} is not allowed; only ${origin()} may connect.`;
    const presented = url.searchParams.get(TOKEN_PARAM) ?? cookieValue(req.headers.cookie, TOKEN_COOKIE);
    if (presented === null || !sameToken(presented, token)) return 'Missing or wrong access token.';
    return null;
  }

  function onConnection(ws: WebSocket): void {
    sockets.add(ws);
    const closers: (() => void)[] = [];
    const client: ClientContext = {
      id: randomUUID(),
      push: (envelopes: ConsoleEventEnvelope[]) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          ws.close(1013, 'client too slow; reconnect');
          return;
        }
        ws.send(stringifyWire({ events: envelopes }));
      },
      onClose: (fn) => {
        closers.push(fn);
      },
    };
    ws.on('close', () => {
      sockets.delete(ws);
      for (const fn of closers.splice(0)) fn();
    });
    ws.on('error', () => {
      // 'close' follows and releases the client; nothing else to do.
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        reply(ws, null, fail('invalid_input', 'Binary messages are not accepted; send JSON text.'));
        return;
      }
      const request = parseRequest(toText(data));
      if ('error' in request) {
        reply(ws, request.id, fail('invalid_input', request.error));
        return;
      }
      void invokeChannel(options.handlers, request.method, request.input, client).then((result) => {
        reply(ws, request.id, result);
      });
    });
    options.handlers.attach(client);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;

  let closing: Promise<void> | null = null;
  return {
    url: `${origin()}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
    origin: origin(),
    port,
    token,
    clientCount: () => sockets.size,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function reply(ws: WebSocket, id: number | null, result: IpcResult<unknown>): void {
  if (ws.readyState !== ws.OPEN) return;
  let text: string;
  try {
    text = stringifyWire({ id, result });
  } catch (e) {
    text = stringifyWire({
      id,
      result: fail(
        'internal',
        `The reply could not be encoded: ${e instanceof Error ? e.message : String(e)}.`,
      ),
    });
  }
  ws.send(text);
}

function parseRequest(text: string): WireRequest | { id: number | null; error: string } {
  let value: unknown;
  try {
    value = parseWire(text);
  } catch (e) {
    return {
      id: null,
      error: `The message is not JSON (${e instanceof Error ? e.message : String(e)}); send {"id":1,"method":"…","input":…}.`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { id: null, error: 'The message must be a JSON object {"id":1,"method":"…","input":…}.' };
  }
  const v = value as Record<string, unknown>;
  const id = v.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return { id: null, error: 'The message needs a numeric "id" (an integer) to match its reply.' };
  }
  if (typeof v.method !== 'string')
    return { id, error: 'The message needs a "method" naming a ConsoleApi method.' };
  return { id, method: v.method, input: v.input };
}

function toText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function sameToken(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
