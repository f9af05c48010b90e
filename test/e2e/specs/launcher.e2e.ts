/// <reference types="mocha" />
/**
 * How `npm start` opens the browser (main/launcherPage.ts): the desktop opener gets the path of
 * a private page in the data directory, never the URL with the access token (a program's
 * arguments are visible to every local user), and that page takes the browser into the console.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { browser } from '@wdio/globals';
import { LAUNCHER_FILE } from '../../../main/launcherPage';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { startConsoleApp, type ConsoleApp } from '../helpers/consoleApp';
import { waitUntil } from '../../helpers/wait';
import { openConsole } from '../helpers/ui';

/** This spec's ports (a fixed range of its own): the console and its embedded server. */
const CONSOLE_PORT = 24240;
const EMBEDDED_PORT = 24242;

describe('launcher: the browser is opened without the token in any program arguments', function () {
  let dir: TempDir;
  let dataDir: string;
  let opened: string;
  let app: ConsoleApp | null = null;

  before(async function () {
    dir = await createTempDir('descartes-e2e-launcher-');
    dataDir = join(dir.path, 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Stands in for the desktop's opener: records the arguments it was given.
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    opened = join(dir.path, 'opened.txt');
    const opener = join(bin, 'xdg-open');
    // Written aside and renamed, so the test never reads a half-written file.
    writeFileSync(
      opener,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${opened}.tmp' && mv '${opened}.tmp' '${opened}'\n`,
    );
    chmodSync(opener, 0o755);
    app = await startConsoleApp({ dataDir, port: CONSOLE_PORT, embeddedPort: EMBEDDED_PORT, opener });
  });

  after(async function () {
    await app?.stop();
    await dir.remove();
  });

  it('hands the opener a 0600 page in the data directory, not the URL, and the page opens the console', async () => {
    const args = await waitUntil(
      () => (existsSync(opened) ? readFileSync(opened, 'utf8').trim().split('\n') : undefined),
      { what: 'the opener to be run' },
    );
    const page = join(dataDir, LAUNCHER_FILE);
    assert.deepEqual(args, [page]);
    const token = new URL(app?.url ?? '').searchParams.get('token') ?? '';
    assert.ok(token.length >= 32, `a token in ${app?.url}`);
    assert.ok(!args.join(' ').includes(token), 'the token is not in the arguments');
    assert.equal(statSync(page).mode & 0o777, 0o600);
    await openConsole(pathToFileURL(page).href);
    const url = new URL(await browser.getUrl());
    assert.equal(`${url.protocol}//${url.host}`, `http://127.0.0.1:${CONSOLE_PORT}`);
  });

  it('removes the page when the console stops', async () => {
    const page = join(dataDir, LAUNCHER_FILE);
    assert.ok(existsSync(page));
    const exit = await app?.stop();
    assert.equal(exit?.code, 0);
    assert.ok(!existsSync(page), 'the page is gone');
  });
});
