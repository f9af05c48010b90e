/**
 * What a client socket's monitor events say about reaching a server: connected at the TCP
 * level, handshake done, or handshake refused and why. zeromq.js reports these on
 * `socket.events` (libzmq's socket monitor, an inproc socket of its own), so watching them
 * costs nothing per message.
 */
import type * as zmq from 'zeromq';
import { socketEvents } from '../../../shared/node/retryInterrupted';
import type { HandshakeProblem } from '../../../shared/domain/server';
import { probeMechanism } from './mechanismProbe';

/**
 * - `connected`: a TCP connection was made (the address is reachable);
 * - `retrying`: a TCP connect failed and libzmq will try again;
 * - `handshaken`: the ZMTP handshake succeeded (keys accepted both ways for CURVE);
 * - `refused`: the handshake failed; `problem` is null when the cause is none of the known ones
 *   (e.g. the peer does not speak ZMTP), `detail` says what libzmq reported;
 * - `disconnected`: an established connection ended. libzmq reconnects by itself (a `retrying`
 *   follows at once) unless it ended on a protocol error, such as a frame over the socket's
 *   `maxMessageSize`: then nothing follows and the socket stays without a connection.
 */
export type SocketSignal =
  | { readonly kind: 'connected' }
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'retrying' }
  | { readonly kind: 'handshaken' }
  | { readonly kind: 'refused'; readonly problem: HandshakeProblem | null; readonly detail: string };

/**
 * A handshake the server broke off without a reason (EPIPE, ECONNRESET): a CURVE server that
 * cannot decrypt our HELLO (it holds another key than the one we pinned), or a server that
 * hung up on a mechanism it does not speak before we read its greeting. Only the server's
 * greeting tells these apart: see {@link brokenOffProblem}.
 */
export interface BrokenOff {
  readonly kind: 'broken_off';
  /** The peer's address, as libzmq reports it (`tcp://host:port`). */
  readonly address: string;
  readonly detail: string;
}

/**
 * Reads one monitor event of a client socket. `curve` says whether this socket speaks CURVE:
 * a mechanism mismatch means the server is plain when we are encrypted, and the other way round.
 * @returns null for events that say nothing about reaching the server
 */
export function classifySocketEvent(event: zmq.Event, curve: boolean): SocketSignal | BrokenOff | null {
  switch (event.type) {
    case 'connect':
      return { kind: 'connected' };
    case 'connect:retry':
      return { kind: 'retrying' };
    case 'handshake':
      return { kind: 'handshaken' };
    case 'handshake:error:auth':
      // The server's ZAP handler refused our public key (status 400).
      return {
        kind: 'refused',
        problem: 'key_not_allowed',
        detail: `authentication refused (${event.error.status})`,
      };
    case 'handshake:error:protocol':
      if (event.error.code === 'ERR_ZMTP_MECHANISM_MISMATCH') {
        return {
          kind: 'refused',
          problem: curve ? 'server_is_plain' : 'server_is_encrypted',
          detail: 'security mechanism mismatch',
        };
      }
      return { kind: 'refused', problem: null, detail: `ZMTP protocol error ${event.error.code}` };
    case 'handshake:error:other':
      return {
        kind: 'broken_off',
        address: event.address,
        detail: `handshake broken off (${event.error.code})`,
      };
    case 'disconnect':
      return { kind: 'disconnected' };
    case 'accept':
    case 'accept:error':
    case 'bind':
    case 'bind:error':
    case 'close':
    case 'close:error':
    case 'connect:delay':
    case 'end':
    case 'unknown':
      return null;
    default: {
      const never: never = event;
      return never;
    }
  }
}

/**
 * What a broken-off handshake means, given the mechanism the server greets with (from
 * {@link probeMechanism}; null when it could not be read).
 * @returns null when it cannot be told (the server is unknown, or plain like us)
 */
export function brokenOffProblem(mechanism: string | null, curve: boolean): HandshakeProblem | null {
  if (mechanism === null) return null;
  if (curve) return mechanism === 'CURVE' ? 'server_key_mismatch' : 'server_is_plain';
  return mechanism === 'CURVE' ? 'server_is_encrypted' : null;
}

/**
 * Calls `listener` with every {@link SocketSignal} of `socket` until the socket is closed.
 * Call it before `socket.connect`, so no event is missed. `listener` must not throw.
 *
 * A handshake broken off without a reason is first reported as `refused` with no problem, then
 * explained by reading the server's greeting on a connection of our own (one at a time; libzmq
 * retries such a socket by itself, so a later break-off asks again).
 */
export function watchSocketEvents(
  socket: zmq.Socket,
  curve: boolean,
  listener: (signal: SocketSignal) => void,
  probe: (endpoint: string) => Promise<string | null> = probeMechanism,
): void {
  const events = socketEvents(socket);
  const state = { probing: false, ended: false };
  void (async () => {
    try {
      for await (const event of events) {
        const signal = classifySocketEvent(event, curve);
        if (signal === null) continue;
        if (signal.kind !== 'broken_off') {
          listener(signal);
          continue;
        }
        listener({ kind: 'refused', problem: null, detail: signal.detail });
        if (state.probing) continue;
        state.probing = true;
        void probe(signal.address).then((mechanism) => {
          state.probing = false;
          const problem = brokenOffProblem(mechanism, curve);
          if (state.ended || problem === null) return;
          listener({
            kind: 'refused',
            problem,
            detail: `${signal.detail}; the server speaks ${mechanism ?? '?'}`,
          });
        });
      }
    } catch {
      // The observer ends with the socket; there is nothing to report then.
    } finally {
      state.ended = true;
    }
  })();
}
