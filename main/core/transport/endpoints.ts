/**
 * ZeroMQ TCP endpoint helpers. Only `tcp://host:port` endpoints are parsed here; other
 * transports (ipc://, inproc://) are passed through unchanged.
 */

export interface TcpEndpoint {
  host: string;
  port: number;
}

/** Parses `tcp://host:port` (IPv6 hosts in brackets). Returns null for anything else. */
export function parseTcpEndpoint(endpoint: string): TcpEndpoint | null {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(endpoint.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] as string, port };
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '*', '[::]', '[*]', '::']);

/**
 * The endpoint to subscribe to for a server's events. A server bound to every interface
 * advertises a wildcard host (`0.0.0.0`, `*`), which is not routable: use the host of the
 * command endpoint we reached it by instead (docs/PROTOCOL.md §5.5).
 *
 * @returns the routable pub endpoint, or null when none is advertised, it is malformed, or it
 *   is not `tcp://` (`ipc://` only for a server reached over `ipc://`)
 */
export function routablePubEndpoint(advertised: string | null, commandEndpoint: string): string | null {
  if (advertised === null) return null;
  const pub = parseTcpEndpoint(advertised);
  if (!pub) {
    // The server chooses what the console connects to: only a local ipc:// for a local ipc://
    // server, never text libzmq would refuse (or another transport) from a hostile one.
    const local = /^ipc:\/\/\S+$/.test(advertised) && commandEndpoint.trim().startsWith('ipc://');
    return local ? advertised : null;
  }
  if (!WILDCARD_HOSTS.has(pub.host)) return advertised;
  const cmd = parseTcpEndpoint(commandEndpoint);
  return `tcp://${cmd?.host ?? '127.0.0.1'}:${pub.port}`;
}

/**
 * Whether two command endpoints name the same server as far as this machine can tell: same
 * port, and the same host ignoring case, with `localhost` and `[::1]` read as 127.0.0.1. Used
 * to find the console's profile (and its pinned key) for an endpoint typed another way.
 */
export function sameEndpoint(a: string, b: string): boolean {
  const x = parseTcpEndpoint(a);
  const y = parseTcpEndpoint(b);
  if (x === null || y === null) return a.trim() === b.trim();
  const host = (h: string): string => {
    const lower = h.toLowerCase();
    return lower === 'localhost' || lower === '[::1]' ? '127.0.0.1' : lower;
  };
  return x.port === y.port && host(x.host) === host(y.host);
}
