import { describe, expect, it } from 'vitest';
import type * as zmq from 'zeromq';
import { brokenOffProblem, classifySocketEvent } from '../../../../../main/core/transport/socketEvents';

/** Monitor events as zeromq.js delivers them (the fields its types declare). */
const address = 'tcp://127.0.0.1:5555';
const errno = (code: string): Error & { code: string; errno: number } =>
  Object.assign(new Error(code), { code, errno: 32 });
const events = {
  connect: { type: 'connect', address },
  retry: { type: 'connect:retry', address, interval: 100 },
  handshake: { type: 'handshake', address },
  auth: {
    type: 'handshake:error:auth',
    address,
    error: Object.assign(new Error('auth'), { status: 400 as const }),
  },
  mismatch: {
    type: 'handshake:error:protocol',
    address,
    error: Object.assign(new Error('mismatch'), { code: 'ERR_ZMTP_MECHANISM_MISMATCH' as const }),
  },
  otherProtocol: {
    type: 'handshake:error:protocol',
    address,
    error: Object.assign(new Error('bad'), { code: 'ERR_ZMTP_UNEXPECTED_COMMAND' as const }),
  },
  other: { type: 'handshake:error:other', address, error: errno('EPIPE') },
  disconnect: { type: 'disconnect', address },
} as const satisfies Record<string, zmq.Event>;

describe('classifySocketEvent', () => {
  it('reads reachability and handshake success the same for plain and CURVE', () => {
    for (const curve of [false, true]) {
      expect(classifySocketEvent(events.connect, curve)).toEqual({ kind: 'connected' });
      expect(classifySocketEvent(events.retry, curve)).toEqual({ kind: 'retrying' });
      expect(classifySocketEvent(events.handshake, curve)).toEqual({ kind: 'handshaken' });
      expect(classifySocketEvent(events.disconnect, curve)).toEqual({ kind: 'disconnected' });
    }
  });

  it('an auth failure is our key not allowed', () => {
    expect(classifySocketEvent(events.auth, true)).toMatchObject({
      kind: 'refused',
      problem: 'key_not_allowed',
    });
  });

  it('a mechanism mismatch names the side the server is on', () => {
    expect(classifySocketEvent(events.mismatch, true)).toMatchObject({ problem: 'server_is_plain' });
    expect(classifySocketEvent(events.mismatch, false)).toMatchObject({ problem: 'server_is_encrypted' });
  });

  it('another protocol error is a refusal without a known cause; a break-off waits for the greeting', () => {
    expect(classifySocketEvent(events.otherProtocol, false)).toEqual({
      kind: 'refused',
      problem: null,
      detail: 'ZMTP protocol error ERR_ZMTP_UNEXPECTED_COMMAND',
    });
    expect(classifySocketEvent(events.other, true)).toEqual({
      kind: 'broken_off',
      address,
      detail: 'handshake broken off (EPIPE)',
    });
  });
});

describe('brokenOffProblem', () => {
  it('a CURVE server that broke off our CURVE handshake holds another key; a plain one is plain', () => {
    expect(brokenOffProblem('CURVE', true)).toBe('server_key_mismatch');
    expect(brokenOffProblem('NULL', true)).toBe('server_is_plain');
    expect(brokenOffProblem('CURVE', false)).toBe('server_is_encrypted');
  });

  it('says nothing when the greeting could not be read, or the server is plain like us', () => {
    expect(brokenOffProblem(null, true)).toBeNull();
    expect(brokenOffProblem(null, false)).toBeNull();
    expect(brokenOffProblem('NULL', false)).toBeNull();
  });
});
