import { describe, expect, it } from 'vitest';
import {
  describeServerSecurity,
  describeTestResult,
  securityLabel,
} from '../../../../renderer/src/lib/security';
import { curveKeyFingerprint } from '../../../../shared/domain/curveKey';
import { CURVE, PLAIN, SERVER_KEY, connectionTest } from '../fakeApi';

describe('security words', () => {
  it('labels a profile encrypted with its fingerprint, or not encrypted', () => {
    expect(securityLabel(CURVE)).toEqual({ encrypted: true, fingerprint: curveKeyFingerprint(SERVER_KEY) });
    expect(securityLabel(PLAIN)).toEqual({ encrypted: false });
    // A stored key that does not parse is still shown as a pinned (and broken) key, never as plain.
    expect(securityLabel({ mode: 'curve', serverKey: 'short' })).toEqual({
      encrypted: true,
      fingerprint: 'invalid key',
    });
  });

  it('names what the server reports, and passes an unknown mechanism through', () => {
    expect(describeServerSecurity('curve')).toBe('encrypted (CurveZMQ)');
    expect(describeServerSecurity('none')).toBe('not encrypted (plain ZMTP)');
    expect(describeServerSecurity('gssapi')).toBe('gssapi');
    expect(describeServerSecurity(null)).toBeNull();
  });

  it('only ok is success; ok without a server id or reported security still reads well', () => {
    const ok = describeTestResult(
      connectionTest('ok', { remoteServerId: null, serverSecurity: null }),
      CURVE,
    );
    expect(ok).toMatchObject({ tone: 'ok', title: 'Connected', advice: 'The server answered in 12 ms.' });
    for (const outcome of ['unreachable', 'no_reply', 'key_not_allowed', 'server_key_mismatch'] as const) {
      expect(describeTestResult(connectionTest(outcome), CURVE).tone).toBe('error');
    }
  });
});
