import * as zmq from 'zeromq';
import { z85Encode } from '../../shared/domain/curveKey';
import { SerialSender } from '../../shared/node/serialSender';

/**
 * The ZAP endpoint (ZeroMQ RFC 27). libzmq asks whoever is bound here, in the same context,
 * to admit or refuse each peer that handshakes with a socket that has a ZAP domain.
 */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/** One handshake libzmq asks about. */
export interface ZapRequest {
  /** The peer's IP address as libzmq saw it. */
  readonly address: string;
  /** `NULL` (plain ZMTP) or `CURVE` (the others we never enable). */
  readonly mechanism: string;
  /** The client's long-term public key (Z85) for CURVE; null otherwise. */
  readonly clientKey: string | null;
}

/** Admits (`true`) or refuses a handshake. Must not throw; runs on the event loop. */
export type ZapPolicy = (request: ZapRequest) => boolean;

/** A server's registration with the authenticator; {@link release} it when the server closes. */
export interface ZapRegistration {
  /** The ZAP domain to set on the server's sockets: requests for it reach this policy. */
  readonly domain: string;
  release(): Promise<void>;
}

/** Routing id, delimiter, then (RFC 27) version, request id, status code and text, user id, metadata. */
type Reply = readonly [Buffer, Buffer, Buffer, Buffer, string, string, string, string];

interface Handler {
  readonly socket: zmq.Router;
  readonly writer: SerialSender<Reply>;
  readonly loop: Promise<void>;
}

/**
 * One ZAP handler per process, serving every agent server in it by ZAP domain: libzmq allows
 * one socket bound to {@link ZAP_ENDPOINT} per context, and tests and benches run several
 * servers in one process. A request for a domain nobody registered is refused.
 *
 * Server sockets also set `zapEnforceDomain`, so while no handler is bound every handshake
 * fails instead of being admitted: CURVE without a ZAP handler would let any key in.
 */
const policies = new Map<string, ZapPolicy>();
let handler: Handler | null = null;
/** Opening and closing the handler one after the other, never interleaved. */
let transition: Promise<void> = Promise.resolve();
let nextDomain = 1;

/**
 * Registers a policy and makes sure the handler is bound before it returns, so the caller can
 * bind its sockets right after.
 * @throws Error when the ZAP endpoint cannot be bound (another ZAP handler in this context)
 */
export async function registerZapPolicy(policy: ZapPolicy): Promise<ZapRegistration> {
  const domain = `descartes-${process.pid}-${nextDomain++}`;
  policies.set(domain, policy);
  const opened = transition.then(openHandler);
  transition = opened.catch(() => undefined);
  try {
    await opened;
  } catch (error) {
    policies.delete(domain);
    throw error;
  }
  let released = false;
  return {
    domain,
    release: async () => {
      if (released) return;
      released = true;
      policies.delete(domain);
      const closed = transition.then(closeHandlerIfUnused);
      transition = closed.catch(() => undefined);
      await closed;
    },
  };
}

async function openHandler(): Promise<void> {
  if (handler !== null) return;
  const socket = new zmq.Router({ linger: 0 });
  await socket.bind(ZAP_ENDPOINT);
  const writer = new SerialSender<Reply>(socket, (reply) => [...reply]);
  handler = { socket, writer, loop: serve(socket, writer) };
}

/** A ZAP reply that could not be sent: the asking socket is gone (its peer hung up mid-handshake). */
function ignoreNotSent(): void {
  // Nobody is left to tell.
}

async function closeHandlerIfUnused(): Promise<void> {
  if (handler === null || policies.size > 0) return;
  const { socket, writer, loop } = handler;
  handler = null;
  writer.close();
  socket.close();
  await loop;
}

async function serve(socket: zmq.Router, writer: SerialSender<Reply>): Promise<void> {
  try {
    for await (const frames of socket) writer.post(answer(frames), ignoreNotSent);
  } catch {
    // Closing the socket ends the loop.
  }
}

/**
 * Frames of a request on a ROUTER: routing id, empty delimiter, then (RFC 27) version,
 * request id, domain, address, identity, mechanism, credentials…
 */
function answer(frames: Buffer[]): Reply {
  const [
    routingId = Buffer.alloc(0),
    ,
    version,
    requestId = Buffer.alloc(0),
    domain,
    address,
    ,
    mechanism,
    key,
  ] = frames;
  const reply = (code: string, text: string): Reply => [
    routingId,
    Buffer.alloc(0),
    Buffer.from('1.0'),
    requestId,
    code,
    text,
    '',
    '',
  ];
  if (version?.toString('latin1') !== '1.0' || mechanism === undefined)
    return reply('500', 'malformed ZAP request');
  const policy = policies.get(domain?.toString('latin1') ?? '');
  if (policy === undefined) return reply('400', 'unknown ZAP domain');
  const mech = mechanism.toString('latin1');
  const request: ZapRequest = {
    address: address?.toString('latin1') ?? '',
    mechanism: mech,
    clientKey: mech === 'CURVE' && key?.length === 32 ? z85Encode(key) : null,
  };
  return policy(request) ? reply('200', 'OK') : reply('400', 'not allowed');
}
