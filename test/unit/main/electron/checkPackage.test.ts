import { describe, expect, it } from 'vitest';
import { packageProblems, type PackedApp } from '../../../../main/electron/checkPackage';

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
};

const with_ = (patch: Partial<{ asar: string[]; unpacked: string[]; main: unknown }>): PackedApp => ({
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
});
