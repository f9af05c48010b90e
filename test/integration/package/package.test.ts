import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPackage } from '../../../scripts/package/checkPackage';
import { REQUIRED_FUSES, FUSE_NAMES } from '../../../scripts/package/fuseWire';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/**
 * electron-builder packs the app offline (a stand-in Electron folder, downloads pointed at a
 * dead proxy) and the unpacked Linux app is inspected: its files, the fuses electron-builder
 * flipped in the stand-in executable, and its main bundle run under a stand-in Electron. Builds
 * the bundles (and the renderer if it has not been built) first.
 */
describe('packaging (electron-builder, offline)', () => {
  const work = mkdtempSync(join(tmpdir(), 'descartes-pack-test-'));
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the bundles, the renderer and only the Linux zeromq prebuilds, fused, serving app://console/', async () => {
    const { app, probe, problems } = await checkPackage({ outDir: join(work, 'ok') });
    expect(problems).toEqual([]);
    // electron-builder flipped the stand-in's Electron 40 wire to exactly what we require.
    expect(app.fuses).toEqual({ version: 1, states: FUSE_NAMES.map((name) => REQUIRED_FUSES[name]) });
    expect(app.filesWithoutIntegrity).toEqual([]);
    // The packed main bundle served its packed renderer over app:// and ran its packed server.
    expect(probe?.loads).toEqual(['url app://console/']);
    expect(probe?.responses.find((r) => r.url === 'app://console/')).toMatchObject({ status: 200 });
    expect(probe?.forks).toEqual([
      {
        modulePath: 'dist/server/cli.cjs',
        serviceName: 'Descartes agent server',
        stdio: 'pipe',
        runAsNode: false,
        aliveAtExit: false,
      },
    ]);
    expect(probe?.exitCode).toBe(0);
    expect(app.asarEntries).toEqual(
      expect.arrayContaining([
        'dist/electron/main.cjs',
        'dist/electron/preload.cjs',
        'dist/renderer/index.html',
        'dist/server/cli.cjs',
      ]),
    );
    expect(app.packageJson.main).toBe('dist/electron/main.cjs');
    expect(
      app.unpackedFiles.some((f) => /^node_modules\/zeromq\/build\/linux\/x64\/.+\/addon\.node$/.test(f)),
    ).toBe(true);
    expect(
      [...app.asarEntries, ...app.unpackedFiles].filter((f) => /zeromq\/build\/(win32|darwin)/.test(f)),
    ).toEqual([]);
    expect(app.asarEntries.filter((f) => f.endsWith('.ts') || /(^|\/)(src|test)\//.test(f))).toEqual([]);
  });

  it('catches a config that ships other platforms’ prebuilds and leaves Electron’s fuses as shipped', async () => {
    // The same config without the Linux-only filter and without electronFuses: the check must notice both.
    const config = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')
      .replace(/^ {4}- '!\*\*\/node_modules\/zeromq\/build\/\{darwin,win32\}\/\*\*'\n/m, '')
      .replace(/^electronFuses:\n(?: {2}.*\n)+/m, '');
    expect(config).not.toContain('{darwin,win32}');
    expect(config).not.toContain('electronFuses');
    const configFile = join(work, 'no-linux-filter.yml');
    writeFileSync(configFile, config);
    const { app, problems } = await checkPackage({
      outDir: join(work, 'bad'),
      configFile,
      build: false,
      probe: false,
    });
    expect(
      problems.some((p) =>
        p.startsWith('zeromq prebuilds of other platforms ship: node_modules/zeromq/build/'),
      ),
    ).toBe(true);
    // Read from the packed executable: nothing flipped them.
    expect(app.fuses?.states.slice(0, 1)).toEqual(['on']);
    expect(problems).toContain('fuse RunAsNode is on, must be off');
    expect(problems).toContain('electron-builder config sets no electronFuses');
  });
});
