/**
 * Asks a ZMTP 3 peer which security mechanism it speaks, by reading the greeting it sends to
 * anyone who connects (ZeroMQ RFC 23): 10 bytes of signature, the version, then the
 * mechanism's name in 20 bytes. Nothing is sent beyond our own signature and major version,
 * so the peer sees a client that left during the greeting, before any handshake.
 *
 * Why: when a CURVE handshake is broken off without a reason (EPIPE), libzmq cannot tell
 * whether the server holds another key than the one we pinned or does not speak CURVE at
 * all; it reports the latter as a mechanism mismatch only when it happens to read the
 * server's greeting before the server hangs up, which is a race. The greeting settles it.
 */
import { connect } from 'node:net';
import { parseTcpEndpoint } from './endpoints';

/** Our side of the greeting up to the major version: signature `FF 00×8 7F`, then version 3. */
const OUR_GREETING_START = Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3]);
/** Where the mechanism's name sits in a ZMTP 3 greeting, and its length. */
const MECHANISM_AT = 12;
const MECHANISM_BYTES = 20;

/**
 * The mechanism the ZMTP 3 peer at `endpoint` greets with: `NULL` (plain), `PLAIN`, `CURVE`…
 * @param endpoint `tcp://host:port`
 * @param timeoutMs how long to wait for the greeting, ms
 * @returns the mechanism's name, or null when the peer cannot be reached in time, is not a
 *   ZMTP 3 peer, or `endpoint` is not a TCP endpoint. Never rejects.
 */
export function probeMechanism(endpoint: string, timeoutMs = 2000): Promise<string | null> {
  const tcp = parseTcpEndpoint(endpoint);
  if (tcp === null) return Promise.resolve(null);
  const host = tcp.host.startsWith('[') ? tcp.host.slice(1, -1) : tcp.host;
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const socket = connect({ host, port: tcp.port });
    const done = (mechanism: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(mechanism);
    };
    const timer = setTimeout(() => {
      done(null);
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(OUR_GREETING_START);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 1 && received[0] !== 0xff) {
        done(null);
        return;
      }
      if (received.length >= 11 && (received[9] !== 0x7f || (received[10] ?? 0) < 3)) {
        done(null);
        return;
      }
      if (received.length < MECHANISM_AT + MECHANISM_BYTES) return;
      const name = received.subarray(MECHANISM_AT, MECHANISM_AT + MECHANISM_BYTES);
      const end = name.indexOf(0);
      done(name.subarray(0, end < 0 ? name.length : end).toString('latin1'));
    });
    socket.on('error', () => {
      done(null);
    });
    socket.on('close', () => {
      done(null);
    });
  });
}
