import { generateCurveKeyPair, type CurveKeyPair } from '../../shared/node/curveKeyPair';

/**
 * The client key pair of this test process: servers started by the test harness allow it by
 * default, so tests talk to a server the way a console does, over CURVE with a real key.
 */
export const TEST_CLIENT_KEYS: CurveKeyPair = generateCurveKeyPair();

/** How a test client reaches a CURVE server: its pinned public key and our key pair. */
export interface CurveClient {
  readonly serverKey: string;
  readonly keyPair?: CurveKeyPair;
}

/** zeromq.js socket options for a CURVE client (none for a plain one). */
export function curveClientOptions(curve: CurveClient | null | undefined): {
  curveServerKey?: string;
  curvePublicKey?: string;
  curveSecretKey?: string;
} {
  if (!curve) return {};
  const keys = curve.keyPair ?? TEST_CLIENT_KEYS;
  return { curveServerKey: curve.serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey };
}
