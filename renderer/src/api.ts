/**
 * The only renderer module that touches the transport. Stores call {@link getApi}; nothing else
 * in the renderer knows whether it runs in Electron (the preload's `window.descartes`) or in a
 * browser talking to the browser host over WebSocket.
 */
import type { ConsoleApi } from '../../shared/ipc';
import { createBrowserClient } from './api/browserClient';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in a plain browser. */
    readonly descartes?: ConsoleApi;
  }
}

/** Cookie and query parameter that carry the browser host's token. */
export const TOKEN_PARAM = 'token';
export const TOKEN_COOKIE = 'descartes_token';
/** Path of the browser host's WebSocket endpoint. */
export const WS_PATH = '/ws';

let current: ConsoleApi | null = null;

/**
 * The browser host's WebSocket URL for a page location: same host, `ws:` for `http:` and
 * `wss:` for `https:`.
 */
export function webSocketUrlFor(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${WS_PATH}`;
}

/** The token from `?token=…` or else the `descartes_token` cookie; empty when neither is set. */
export function tokenFor(search: string, cookie: string): string {
  const fromQuery = new URLSearchParams(search).get(TOKEN_PARAM);
  if (fromQuery) return fromQuery;
  for (const part of cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return '';
}

/**
 * The console API for this window, created on first use. In Electron it is the preload's
 * object; otherwise a WebSocket client of the browser host at this page's origin. Never
 * throws: a transport that cannot connect reports it through each call's `IpcResult`.
 */
export function getApi(): ConsoleApi {
  if (current) return current;
  if (window.descartes) {
    current = window.descartes;
  } else {
    current = createBrowserClient(
      webSocketUrlFor(window.location),
      tokenFor(window.location.search, document.cookie),
    );
  }
  return current;
}

/**
 * Replaces the API (tests, and a future embedding that builds its own client). Returns the
 * previous one. Stores read the API on each call, so this takes effect immediately.
 */
export function installApi(api: ConsoleApi | null): ConsoleApi | null {
  const previous = current;
  current = api;
  return previous;
}
