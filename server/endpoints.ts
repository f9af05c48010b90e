import { networkInterfaces } from 'node:os';

/** A socket that could not be bound; the message is the one line the CLI prints. */
export class BindError extends Error {
  override readonly name = 'BindError';
  constructor(
    readonly endpoint: string,
    readonly code: string,
    detail: string,
  ) {
    super(`cannot bind ${endpoint}: ${detail}`);
  }
}

const EXPECTED = 'expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5555';

/**
 * Checks an endpoint's form before binding (libzmq's own errors for a bad one are vague).
 * @throws BindError naming the endpoint
 */
export function checkEndpoint(endpoint: string): void {
  const m = /^([a-z]+):\/\/(.*)$/.exec(endpoint);
  if (!m) throw new BindError(endpoint, 'EINVAL', `invalid endpoint (${EXPECTED})`);
  const [, transport = '', rest = ''] = m;
  if (transport === 'ipc' || transport === 'inproc') {
    if (rest === '') throw new BindError(endpoint, 'EINVAL', `invalid endpoint: empty ${transport} path`);
    return;
  }
  if (transport !== 'tcp') {
    throw new BindError(
      endpoint,
      'EPROTONOSUPPORT',
      `unsupported transport '${transport}' (expected tcp://, ipc:// or inproc://)`,
    );
  }
  const hp = /^(.+):(\d+|\*)$/.exec(rest);
  if (!hp) throw new BindError(endpoint, 'EINVAL', `invalid endpoint (${EXPECTED})`);
  if (hp[2] !== '*' && Number(hp[2]) > 65535)
    throw new BindError(endpoint, 'EINVAL', `invalid port ${hp[2]} (0-65535)`);
}

/** Turns a zeromq.js bind error into a {@link BindError} with a readable reason. */
export function bindError(endpoint: string, error: unknown): BindError {
  if (error instanceof BindError) return error;
  const code = (error as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : 'UNKNOWN';
  const detail: Record<string, string> = {
    EADDRINUSE: 'address already in use',
    EINVAL: `invalid endpoint (${EXPECTED})`,
    EPROTONOSUPPORT: 'unsupported transport (expected tcp://, ipc:// or inproc://)',
    ENOCOMPATPROTO: 'unsupported transport (expected tcp://, ipc:// or inproc://)',
    EADDRNOTAVAIL: 'address not available on this host',
    ENODEV: 'no such network interface',
    EACCES: 'permission denied',
  };
  return new BindError(
    endpoint,
    c,
    detail[c] ?? `cannot use this endpoint: ${error instanceof Error ? error.message : String(error)} (${c})`,
  );
}

const WILDCARD_HOST = /^(tcp:\/\/)(0\.0\.0\.0|\*|\[::\]|\[\*\]|::)(:\d+)$/;

/**
 * The endpoint a client on this machine can connect to: a wildcard host becomes 127.0.0.1.
 * @param bound the socket's `lastEndpoint` (port already resolved)
 */
export function localEndpoint(bound: string): string {
  const m = WILDCARD_HOST.exec(bound);
  return m ? `${m[1] ?? ''}127.0.0.1${m[3] ?? ''}` : bound;
}

/**
 * The endpoint to advertise to remote clients: a wildcard host becomes this host's first
 * external IPv4 address (127.0.0.1 when there is none), never 0.0.0.0.
 */
export function routableEndpoint(bound: string): string {
  const m = WILDCARD_HOST.exec(bound);
  if (!m) return bound;
  let host = '127.0.0.1';
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external) {
      host = external.address;
      break;
    }
  }
  return `${m[1] ?? ''}${host}${m[3] ?? ''}`;
}

/**
 * Whether a bound endpoint is reachable from this machine only: a tcp:// host in 127.0.0.0/8,
 * `::1` or `localhost`, or an ipc:// / inproc:// endpoint. A wildcard host is not.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (!endpoint.startsWith('tcp://')) return true;
  const hostPort = endpoint.slice('tcp://'.length);
  const host = hostPort.slice(0, hostPort.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost';
}
