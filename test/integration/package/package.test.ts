import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPackage } from '../../../main/electron/checkPackage';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/**
 * electron-builder packs the app offline (a stand-in Electron folder, downloads pointed at a
 * dead proxy) and the unpacked Linux app is inspected. Builds the bundles (and the renderer if
 * it has not been built) first.
 */
describe('packaging (electron-builder, offline)', () => {
  const work = mkdtempSync(join(tmpdir(), 'descartes-pack-test-'));
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the bundles, the renderer and only the Linux zeromq prebuilds', async () => {
    const { app, problems } = await checkPackage({ outDir: join(work, 'ok') });
    expect(problems).toEqual([]);
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

  it('catches a config that ships other platforms’ prebuilds', async () => {
    // The same config without the Linux-only filter: the check must notice.
    const config = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8').replace(
      /^ {4}- '!\*\*\/node_modules\/zeromq\/build\/\{darwin,win32\}\/\*\*'\n/m,
      '',
    );
    expect(config).not.toContain('{darwin,win32}');
    const configFile = join(work, 'no-linux-filter.yml');
    writeFileSync(configFile, config);
    const { problems } = await checkPackage({ outDir: join(work, 'bad'), configFile, build: false });
    expect(
      problems.some((p) =>
        p.startsWith('zeromq prebuilds of other platforms ship: node_modules/zeromq/build/'),
      ),
    ).toBe(true);
  });
});
