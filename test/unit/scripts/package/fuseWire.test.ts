import { describe, expect, it } from 'vitest';
import {
  ELECTRON_DEFAULT_FUSES,
  FUSE_NAMES,
  FUSE_SENTINEL,
  fuseProblems,
  fuseWireBytes,
  readFuseWire,
  REQUIRED_FUSES,
} from '../../../../scripts/package/fuseWire';

describe('fuse wire', () => {
  it('writes the layout @electron/fuses reads: sentinel, version 1, length, one ASCII byte per fuse', () => {
    const bytes = fuseWireBytes(ELECTRON_DEFAULT_FUSES);
    expect(bytes.subarray(0, 32).toString('ascii')).toBe('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX');
    expect([...bytes.subarray(32, 34)]).toEqual([1, 8]);
    // Electron 40's build/fuses/fuses.json5, in wire order.
    expect(bytes.subarray(34).toString('ascii')).toBe('10110001');
    expect(fuseWireBytes(REQUIRED_FUSES).subarray(34).toString('ascii')).toBe('01001100');
  });

  it('reads the wire out of a binary around it', () => {
    const binary = Buffer.concat([Buffer.alloc(1000, 7), fuseWireBytes(REQUIRED_FUSES), Buffer.alloc(50, 9)]);
    const wire = readFuseWire(binary);
    expect(wire).toEqual({ version: 1, states: FUSE_NAMES.map((name) => REQUIRED_FUSES[name]) });
    expect(fuseProblems(wire)).toEqual([]);
    expect(readFuseWire(Buffer.from('#!/bin/sh\nexit 1\n'))).toBeNull();
  });

  it('reads removed fuses, odd bytes, other versions and short wires for what they are', () => {
    const wire = (version: number, states: string): Buffer =>
      Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([version, states.length]), Buffer.from(states)]);
    expect(readFuseWire(wire(1, 'r1x'))).toEqual({ version: 1, states: ['removed', 'on', 'byte 120'] });
    expect(fuseProblems(readFuseWire(wire(1, 'r1x')))).toEqual([
      'fuse RunAsNode is removed, must be off',
      'fuse EnableNodeOptionsEnvironmentVariable is byte 120, must be off',
      "fuse EnableNodeCliInspectArguments is missing from the binary's wire",
      "fuse EnableEmbeddedAsarIntegrityValidation is missing from the binary's wire",
      "fuse OnlyLoadAppFromAsar is missing from the binary's wire",
      "fuse LoadBrowserProcessSpecificV8Snapshot is missing from the binary's wire",
      "fuse GrantFileProtocolExtraPrivileges is missing from the binary's wire",
    ]);
    expect(fuseProblems(readFuseWire(wire(2, '01001100')))).toEqual([
      'the fuse wire is version 2, not 1: its fuses cannot be read',
    ]);
    // A longer wire (a newer Electron) keeps the known fuses readable.
    expect(fuseProblems(readFuseWire(wire(1, '010011001')))).toEqual([]);
  });
});
