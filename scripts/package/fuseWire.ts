/**
 * Electron's fuse wire, as `@electron/fuses` reads and writes it in the binary (Electron's
 * `build/fuses/build.py`): the 32-byte ASCII sentinel, one byte for the wire's version (1), one
 * byte for the number of fuses, then one ASCII byte per fuse: `'0'` off, `'1'` on, `'r'` removed.
 */

/** Marks where the fuse wire starts in an Electron binary. */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** The wire format `@electron/fuses` 1.x writes (`FuseVersion.V1`). */
export const FUSE_WIRE_VERSION = 1;

/** The fuses of wire version 1, in wire order (`FuseV1Options` of `@electron/fuses`). */
export const FUSE_NAMES = [
  'RunAsNode',
  'EnableCookieEncryption',
  'EnableNodeOptionsEnvironmentVariable',
  'EnableNodeCliInspectArguments',
  'EnableEmbeddedAsarIntegrityValidation',
  'OnlyLoadAppFromAsar',
  'LoadBrowserProcessSpecificV8Snapshot',
  'GrantFileProtocolExtraPrivileges',
] as const;

export type FuseName = (typeof FUSE_NAMES)[number];
export type FuseState = 'on' | 'off' | 'removed';

/**
 * How Electron 40 ships its fuses (`build/fuses/fuses.json5` at v40): RunAsNode, NodeOptions,
 * NodeCliInspect and GrantFileProtocolExtraPrivileges on, the rest off.
 */
export const ELECTRON_DEFAULT_FUSES: Readonly<Record<FuseName, FuseState>> = {
  RunAsNode: 'on',
  EnableCookieEncryption: 'off',
  EnableNodeOptionsEnvironmentVariable: 'on',
  EnableNodeCliInspectArguments: 'on',
  EnableEmbeddedAsarIntegrityValidation: 'off',
  OnlyLoadAppFromAsar: 'off',
  LoadBrowserProcessSpecificV8Snapshot: 'off',
  GrantFileProtocolExtraPrivileges: 'on',
};

/**
 * The fuses our packaged app must have (electron-builder.yml `electronFuses`): no
 * ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect; cookies encrypted; code only from the
 * validated app.asar; no extra file:// privileges (the renderer is served from app://console/).
 */
export const REQUIRED_FUSES: Readonly<Record<FuseName, FuseState>> = {
  RunAsNode: 'off',
  EnableCookieEncryption: 'on',
  EnableNodeOptionsEnvironmentVariable: 'off',
  EnableNodeCliInspectArguments: 'off',
  EnableEmbeddedAsarIntegrityValidation: 'on',
  OnlyLoadAppFromAsar: 'on',
  LoadBrowserProcessSpecificV8Snapshot: 'off',
  GrantFileProtocolExtraPrivileges: 'off',
};

const BYTE_OF: Readonly<Record<FuseState, number>> = { off: 0x30, on: 0x31, removed: 0x72 };

/** The wire bytes for `states` (sentinel, version, length, one byte per fuse in wire order). */
export function fuseWireBytes(states: Readonly<Record<FuseName, FuseState>>): Buffer {
  return Buffer.concat([
    Buffer.from(FUSE_SENTINEL, 'ascii'),
    Buffer.from([FUSE_WIRE_VERSION, FUSE_NAMES.length]),
    Buffer.from(FUSE_NAMES.map((name) => BYTE_OF[states[name]])),
  ]);
}

/** A fuse wire read from a binary. Fuses past the known names are kept by index. */
export interface FuseWire {
  readonly version: number;
  /** Each fuse's state by wire position; a byte that is none of `0`, `1`, `r` reads as its code. */
  readonly states: readonly (FuseState | `byte ${number}`)[];
}

/**
 * Reads the fuse wire of a binary (the first sentinel, as `@electron/fuses` does).
 * @returns null when the binary has no sentinel (not Electron ≥ 12, or not Electron at all)
 */
export function readFuseWire(binary: Buffer): FuseWire | null {
  const at = binary.indexOf(FUSE_SENTINEL, 0, 'ascii');
  if (at < 0) return null;
  const wire = at + FUSE_SENTINEL.length;
  const version = binary[wire] ?? -1;
  const length = binary[wire + 1] ?? 0;
  const states: (FuseState | `byte ${number}`)[] = [];
  for (let i = 0; i < length && wire + 2 + i < binary.length; i++) {
    const byte = binary[wire + 2 + i] ?? 0;
    const state = (Object.keys(BYTE_OF) as FuseState[]).find((s) => BYTE_OF[s] === byte);
    states.push(state ?? `byte ${byte}`);
  }
  return { version, states };
}

/**
 * How a binary's fuses differ from `required`.
 * @returns one sentence per problem; empty when every required fuse is as required
 */
export function fuseProblems(
  wire: FuseWire | null,
  required: Readonly<Record<FuseName, FuseState>> = REQUIRED_FUSES,
): string[] {
  if (wire === null) return [`the Electron binary has no fuse wire (sentinel ${FUSE_SENTINEL} not found)`];
  if (wire.version !== FUSE_WIRE_VERSION) {
    return [`the fuse wire is version ${wire.version}, not ${FUSE_WIRE_VERSION}: its fuses cannot be read`];
  }
  const problems: string[] = [];
  FUSE_NAMES.forEach((name, i) => {
    const state = wire.states[i];
    if (state === undefined) problems.push(`fuse ${name} is missing from the binary's wire`);
    else if (state !== required[name]) problems.push(`fuse ${name} is ${state}, must be ${required[name]}`);
  });
  return problems;
}
