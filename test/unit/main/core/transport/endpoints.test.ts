import { describe, expect, it } from 'vitest';
import {
  sameEndpoint,
  parseTcpEndpoint,
  routablePubEndpoint,
} from '../../../../../main/core/transport/endpoints';

describe('parseTcpEndpoint', () => {
  it('reads host and port', () => {
    expect(parseTcpEndpoint('tcp://127.0.0.1:5555')).toEqual({ host: '127.0.0.1', port: 5555 });
    expect(parseTcpEndpoint('tcp://agents.example:7000')).toEqual({ host: 'agents.example', port: 7000 });
    expect(parseTcpEndpoint('tcp://[::1]:5556')).toEqual({ host: '[::1]', port: 5556 });
  });

  it('refuses what is not a tcp endpoint with a valid port', () => {
    for (const bad of [
      '127.0.0.1:5555',
      'tcp://127.0.0.1',
      'tcp://127.0.0.1:0',
      'tcp://h:70000',
      'ipc:///tmp/x',
    ]) {
      expect(parseTcpEndpoint(bad)).toBeNull();
    }
  });
});

describe('routablePubEndpoint', () => {
  it('keeps a routable advertised endpoint', () => {
    expect(routablePubEndpoint('tcp://10.1.2.3:5556', 'tcp://agents:5555')).toBe('tcp://10.1.2.3:5556');
  });

  it('replaces a wildcard host by the command endpoint host', () => {
    expect(routablePubEndpoint('tcp://0.0.0.0:5556', 'tcp://agents.example:5555')).toBe(
      'tcp://agents.example:5556',
    );
    expect(routablePubEndpoint('tcp://*:6000', 'tcp://192.0.2.7:5555')).toBe('tcp://192.0.2.7:6000');
  });

  it('gives null when nothing usable is advertised', () => {
    expect(routablePubEndpoint(null, 'tcp://127.0.0.1:5555')).toBeNull();
    expect(routablePubEndpoint('tcp://nonsense', 'tcp://127.0.0.1:5555')).toBeNull();
    // What a hostile server may advertise: junk libzmq refuses, or another transport.
    expect(routablePubEndpoint('garbage', 'tcp://127.0.0.1:5555')).toBeNull();
    expect(routablePubEndpoint('ipc:///tmp/elsewhere', 'tcp://127.0.0.1:5555')).toBeNull();
    expect(routablePubEndpoint('inproc://x', 'tcp://127.0.0.1:5555')).toBeNull();
    expect(routablePubEndpoint('ipc:///run/agents.pub', 'ipc:///run/agents.cmd')).toBe(
      'ipc:///run/agents.pub',
    );
  });
});

describe('sameEndpoint', () => {
  it('matches the same server typed another way, and nothing else', () => {
    expect(sameEndpoint('tcp://127.0.0.1:5555', 'tcp://localhost:5555')).toBe(true);
    expect(sameEndpoint('tcp://LOCALHOST:5555', ' tcp://127.0.0.1:5555 ')).toBe(true);
    expect(sameEndpoint('tcp://[::1]:5555', 'tcp://127.0.0.1:5555')).toBe(true);
    expect(sameEndpoint('tcp://Build.Example:7000', 'tcp://build.example:7000')).toBe(true);
    expect(sameEndpoint('tcp://127.0.0.1:5555', 'tcp://127.0.0.1:5557')).toBe(false);
    expect(sameEndpoint('tcp://10.0.0.1:5555', 'tcp://127.0.0.1:5555')).toBe(false);
  });
});
