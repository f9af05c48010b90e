import { describe, expect, it } from 'vitest';
import { curveKeyFingerprint } from '../../../../../shared/domain/curveKey';
import { generateCurveKeyPair } from '../../../../../shared/node/curveKeyPair';
import { handshakeProblemText } from '../../../../../main/core/transport/handshakeProblemText';

const client = generateCurveKeyPair();
const server = generateCurveKeyPair();
const ctx = {
  endpoint: 'tcp://10.0.0.5:5555',
  serverKey: server.publicKey,
  clientPublicKey: client.publicKey,
};

describe('handshakeProblemText', () => {
  it('key_not_allowed gives the exact allow line, quoted for the shell', () => {
    expect(handshakeProblemText('key_not_allowed', ctx)).toBe(
      `the server at tcp://10.0.0.5:5555 refused this console's key; run on the server: npm run server -- allow '${client.publicKey}' --name console-${curveKeyFingerprint(client.publicKey).replaceAll(':', '').slice(0, 8)}`,
    );
  });

  it('server_key_mismatch names the pinned fingerprint and how to check it', () => {
    const text = handshakeProblemText('server_key_mismatch', ctx);
    expect(text).toContain(`(fingerprint ${curveKeyFingerprint(server.publicKey)})`);
    expect(text).toContain('`npm run server -- key`');
  });

  it('the mismatches of mode say which side to change', () => {
    expect(handshakeProblemText('server_is_plain', ctx)).toContain('restart it without --insecure');
    expect(
      handshakeProblemText('server_is_encrypted', { ...ctx, serverKey: null, clientPublicKey: null }),
    ).toContain('pin its public key');
  });

  it('never contains a secret key', () => {
    for (const p of [
      'key_not_allowed',
      'server_key_mismatch',
      'server_is_plain',
      'server_is_encrypted',
    ] as const) {
      const text = handshakeProblemText(p, ctx);
      expect(text).not.toContain(client.secretKey);
      expect(text).not.toContain(server.secretKey);
    }
  });
});
