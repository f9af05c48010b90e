import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findElectron } from '../../../main/electronBinary';
import { isPortFree } from '../../helpers/ports';
import { REPO_ROOT } from '../../helpers/serverProcess';
import { createTempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';
import { writeRenderer } from './hostKit';

const EMBEDDED_PORT = 32400;
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('npm start (browser fallback)', () => {
  it('starts the embedded server, prints one URL line, serves with the token and cleans up on SIGTERM', async () => {
    const dir = await createTempDir('descartes-start-');
    const dataDir = join(dir.path, 'data');
    const rendererDir = writeRenderer(dir.path);
    // No download attempt in tests: remember a recent failure (or skip Electron if it is installed here).
    const electronHere = findElectron(REPO_ROOT).ok;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, 'electron-install.json'),
      JSON.stringify({ at: Date.now(), error: 'offline in tests' }),
    );

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'main/start.ts', '--no-open', ...(electronHere ? ['--browser'] : [])],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          DESCARTES_DATA_DIR: dataDir,
          DESCARTES_RENDERER_DIR: rendererDir,
          DESCARTES_EMBEDDED_PORT: String(EMBEDDED_PORT),
          CI: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    if (child.pid !== undefined) pids.push(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        resolve(code);
      }),
    );

    try {
      const url = await waitUntil(() => /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout)?.[1], {
        timeoutMs: 40_000,
        what: `the URL line (stderr so far: ${stderr})`,
      });
      const embeddedPid = Number(/pid (\d+)/.exec(stderr)?.[1]);
      expect(embeddedPid).toBeGreaterThan(0);
      pids.push(embeddedPid);
      expect(stdout.trim().split('\n')).toHaveLength(1);
      expect(stdout).toMatch(
        electronHere
          ? /^Browser host requested/
          : /^Electron is not installed \(its download failed: offline in tests\); open the console at /,
      );
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Descartes</title>');
      expect((await fetch(url.replace(/\?token=.*/, ''))).status).toBe(403);

      const servers = JSON.parse(readFileSync(join(dataDir, 'servers.json'), 'utf8')) as {
        servers: { name: string; embedded: boolean; endpoint: string }[];
      };
      expect(servers.servers).toEqual([
        expect.objectContaining({
          name: 'Local agent server',
          embedded: true,
          endpoint: `tcp://127.0.0.1:${EMBEDDED_PORT}`,
        }),
      ]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(() => process.kill(embeddedPid, 0)).toThrow();
      expect(await isPortFree(EMBEDDED_PORT)).toBe(true);
    } finally {
      // SIGTERM first: a SIGKILLed start.ts would leave its embedded server orphaned.
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      child.kill('SIGKILL');
      await dir.remove();
    }
  });
});
