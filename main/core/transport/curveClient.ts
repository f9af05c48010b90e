/**
 * What a client socket needs to speak CurveZMQ to one server: the server's public key, pinned
 * in its profile, and this console's key pair. Absent (null) means plain ZMTP.
 */
import type { CurveKeyPair } from '../../../shared/node/curveKeyPair';
import { MAX_MESSAGE_BYTES } from '../../../shared/protocol';

/** CURVE settings of a client socket (DEALER or SUB). All keys are 40 Z85 characters. */
export interface CurveClient {
  /** The server's public key: a server that cannot prove it holds the matching secret is refused. */
  readonly serverKey: string;
  /** This console's key pair; the server's ZAP handler admits or refuses the public half. */
  readonly keyPair: CurveKeyPair;
}

/** The zeromq.js socket options for `curve`: none at all for plain ZMTP. */
function curveSocketOptions(
  curve: CurveClient | null,
): { curveServerKey: string; curvePublicKey: string; curveSecretKey: string } | Record<string, never> {
  if (curve === null) return {};
  return {
    curveServerKey: curve.serverKey,
    curvePublicKey: curve.keyPair.publicKey,
    curveSecretKey: curve.keyPair.secretKey,
  };
}

/**
 * The options every client socket of the console shares (the command DEALER, the event SUB and
 * "Test connection"'s DEALER): no linger, the protocol's message limit, libzmq reconnecting from
 * 100 ms up to `reconnectMaxInterval` ms, and `curve`'s keys.
 */
export function clientSocketOptions(curve: CurveClient | null, reconnectMaxInterval: number) {
  return {
    linger: 0,
    maxMessageSize: MAX_MESSAGE_BYTES,
    reconnectInterval: 100,
    reconnectMaxInterval,
    ...curveSocketOptions(curve),
  };
}
