import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  builderConfigProblems,
  filesWithoutIntegrity,
  packageProblems,
  type PackedApp,
} from '../../../../scripts/package/checkPackage';
import {
  ELECTRON_DEFAULT_FUSES,
  fuseWireBytes,
  readFuseWire,
  REQUIRED_FUSES,
} from '../../../../scripts/package/fuseWire';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

const GOOD: PackedApp = {
  asarEntries: [
    'package.json',
    'dist',
    'dist/electron',
    'dist/electron/main.cjs',
    'dist/electron/preload.cjs',
    'dist/renderer/index.html',
    'dist/renderer/assets/index-abc.js',
    'dist/server/cli.cjs',
    'node_modules',
    'node_modules/zeromq/lib/index.js',
    'node_modules/zeromq/build/manifest.json',
    'node_modules/cmake-ts/build/loader.js',
    'node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm',
  ],
  unpackedFiles: ['node_modules/zeromq/build/linux/x64/node/glibc-127-Release/addon.node'],
  packageJson: { main: 'dist/electron/main.cjs' },
  fuses: readFuseWire(fuseWireBytes(REQUIRED_FUSES)),
  filesWithoutIntegrity: [],
  looseAppFolder: false,
};

const with_ = (patch: Partial<{ asar: string[]; unpacked: string[]; main: unknown }>): PackedApp => ({
  ...GOOD,
  asarEntries: [...GOOD.asarEntries, ...(patch.asar ?? [])],
  unpackedFiles: [...GOOD.unpackedFiles, ...(patch.unpacked ?? [])],
  packageJson: { main: 'main' in patch ? patch.main : GOOD.packageJson.main },
});

describe('packageProblems', () => {
  it('accepts a lean Linux package', () => {
    expect(packageProblems(GOOD)).toEqual([]);
  });

  it('names each missing required file', () => {
    const app = {
      ...GOOD,
      asarEntries: GOOD.asarEntries.filter((p) => !p.endsWith('preload.cjs') && !p.endsWith('index.html')),
    };
    expect(packageProblems(app)).toEqual([
      'app.asar lacks dist/electron/preload.cjs',
      'app.asar lacks dist/renderer/index.html',
    ]);
  });

  it('requires an unpacked prebuild for the platform', () => {
    expect(packageProblems({ ...GOOD, unpackedFiles: [] })).toEqual([
      'no unpacked zeromq prebuild for linux (node_modules/zeromq/build/linux/<arch>/…/addon.node)',
    ]);
    expect(packageProblems(GOOD, 'win32')).toContainEqual(
      expect.stringMatching(/zeromq prebuilds of other platforms ship: .*build\/linux/),
    );
  });

  it('flags other platforms, sources, tests, build files, extra modules and a wrong main', () => {
    const problems = packageProblems(
      with_({
        unpacked: ['node_modules/zeromq/build/win32/x64/node/msvc-115-Release/addon.node'],
        asar: [
          'node_modules/zeromq/src/socket.cc',
          'node_modules/zeromq/CMakeLists.txt',
          'node_modules/zeromq/vcpkg.json',
          'node_modules/vue/index.js',
          'node_modules/@vue/shared/index.js',
          'node_modules/zod/index.d.ts',
          'main/electron/main.ts',
          'test/unit/x.test.js',
        ],
        main: 'main/electron/main.ts',
      }),
    );
    expect(problems).toEqual([
      'package.json main is "main/electron/main.ts", not "dist/electron/main.cjs"',
      'zeromq prebuilds of other platforms ship: node_modules/zeromq/build/win32/x64/node/msvc-115-Release/addon.node',
      'TypeScript sources ship: node_modules/zod/index.d.ts, main/electron/main.ts',
      'src/ or test/ folders ship: node_modules/zeromq/src/socket.cc, test/unit/x.test.js',
      'zeromq build files ship: node_modules/zeromq/CMakeLists.txt, node_modules/zeromq/vcpkg.json',
      'modules not needed at run time ship: @vue/shared, vue, zod',
      'repository sources ship: main/electron/main.ts, test/unit/x.test.js',
    ]);
  });

  it('requires the hardened fuses, integrity hashes on every packed file, and app.asar only', () => {
    // Electron 40 as shipped: every fuse we change is reported, the one we keep is not.
    expect(packageProblems({ ...GOOD, fuses: readFuseWire(fuseWireBytes(ELECTRON_DEFAULT_FUSES)) })).toEqual([
      'fuse RunAsNode is on, must be off',
      'fuse EnableCookieEncryption is off, must be on',
      'fuse EnableNodeOptionsEnvironmentVariable is on, must be off',
      'fuse EnableNodeCliInspectArguments is on, must be off',
      'fuse EnableEmbeddedAsarIntegrityValidation is off, must be on',
      'fuse OnlyLoadAppFromAsar is off, must be on',
      'fuse GrantFileProtocolExtraPrivileges is on, must be off',
    ]);
    expect(packageProblems({ ...GOOD, fuses: null })).toEqual([
      'the Electron binary has no fuse wire (sentinel dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX not found)',
    ]);
    expect(
      packageProblems({ ...GOOD, filesWithoutIntegrity: ['dist/electron/main.cjs'], looseAppFolder: true }),
    ).toEqual([
      'app.asar entries without an integrity hash: dist/electron/main.cjs',
      'a resources/app folder ships next to app.asar',
    ]);
  });
});

describe('filesWithoutIntegrity', () => {
  it('lists packed files without a hash; links and unpacked files do not count', () => {
    const integrity = { algorithm: 'SHA256', hash: 'ab', blockSize: 4194304, blocks: ['ab'] };
    expect(
      filesWithoutIntegrity({
        files: {
          'package.json': { integrity },
          dist: { files: { 'main.cjs': {}, 'ok.cjs': { integrity } } },
          node_modules: { files: { 'addon.node': { unpacked: true }, link: { link: 'dist/ok.cjs' } } },
        },
      }),
    ).toEqual(['dist/main.cjs']);
  });
});

describe('builderConfigProblems', () => {
  const yaml = createRequire(join(ROOT, 'package.json'))('js-yaml') as { load(text: string): unknown };
  const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const fuses = config.electronFuses as Record<string, boolean>;

  it('accepts electron-builder.yml', () => {
    expect(builderConfigProblems(config)).toEqual([]);
  });

  it('names every fuse set otherwise, or not at all', () => {
    const { onlyLoadAppFromAsar: _dropped, ...rest } = fuses;
    expect(builderConfigProblems({ ...config, electronFuses: { ...rest, runAsNode: true } })).toEqual([
      'electronFuses.runAsNode is true, must be false',
      'electronFuses.onlyLoadAppFromAsar is undefined, must be true',
    ]);
    expect(builderConfigProblems({ ...config, electronFuses: null })).toEqual([
      'electron-builder config sets no electronFuses',
    ]);
  });

  it('keeps asar and its integrity hash on every platform', () => {
    expect(
      builderConfigProblems({ ...config, asar: false, mac: { asar: false }, disableAsarIntegrity: true }),
    ).toEqual([
      'asar is off: the integrity and asar-only fuses need app.asar',
      'mac.asar is off: the integrity and asar-only fuses need app.asar',
      'disableAsarIntegrity is set: the app.asar header hash would not be embedded',
    ]);
  });
});
