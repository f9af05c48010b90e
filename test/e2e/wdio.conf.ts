/**
 * WebdriverIO configuration of the end-to-end suite (`npm run test:e2e`).
 *
 * Default target: Debian's Chromium (`/usr/bin/chromium`) through Debian's chromedriver
 * (`/usr/bin/chromedriver`), headless, driving the console's BROWSER HOST (`main/start.ts
 * --browser`) against real agent servers. Both binaries are named explicitly and no
 * `browserVersion` is given, so WebdriverIO never downloads a browser or a driver.
 *
 * `E2E_TARGET=electron`: the same specs against the Electron app (`dist/electron/main.cjs`)
 * through `wdio-electron-service` (not installed here: `npm i -D wdio-electron-service` first).
 * UNTESTED here: Electron cannot run on our machines. In that mode the service launches the app
 * with `DESCARTES_DATA_DIR`/`DESCARTES_EMBEDDED_PORT` set per worker (`beforeSession`), and the
 * specs' "stop/start the app" steps become `browser.reloadSession()` (see `helpers/e2eStack.ts`).
 *
 * Env: `E2E_SHOTS_DIR` (screenshots, default `/tmp/e2e-shots`), `E2E_KEEP=1` (keep temp dirs),
 * `E2E_SPEC=<file>` (run one spec file), `E2E_LOG_LEVEL=info` (wdio's own log).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browser } from '@wdio/globals';
import type { Options } from '@wdio/types';
import { chromiumCapabilities } from './chromium';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const electron = process.env.E2E_TARGET === 'electron';

const electronCapabilities = {
  browserName: 'electron',
  'wdio:electronServiceOptions': {
    appEntryPoint: join(ROOT, 'dist', 'electron', 'main.cjs'),
    appArgs: [],
  },
} as WebdriverIO.Capabilities;

/**
 * Per-test outcomes, one JSON line per test, written by the workers (`afterTest`) and summed by
 * the launcher (`onComplete`) into the closing `N passed, N failed` line. The launcher sets the
 * path before it forks the workers, which inherit it.
 */
process.env.DESCARTES_E2E_RESULTS ??= join(tmpdir(), `descartes-e2e-results-${process.pid}.jsonl`);
const resultsFile = process.env.DESCARTES_E2E_RESULTS;

function record(title: string, passed: boolean): void {
  appendFileSync(resultsFile, `${JSON.stringify({ title, passed })}\n`);
}

const shotsDir = process.env.E2E_SHOTS_DIR ?? '/tmp/e2e-shots';

const specs = process.env.E2E_SPEC ? [process.env.E2E_SPEC] : ['./specs/**/*.e2e.ts'];

export const config: Options.Testrunner & { capabilities: WebdriverIO.Capabilities[] } = {
  runner: 'local',
  specs,
  // One console + agent server at a time: the machines have 2 cores.
  maxInstances: 1,
  capabilities: [electron ? electronCapabilities : chromiumCapabilities],
  services: electron ? ['electron'] : [],
  // Chromium runs headless: no X server, so no Xvfb (and never an automatic install of one).
  autoXvfb: false,
  xvfbAutoInstall: false,
  logLevel: process.env.E2E_LOG_LEVEL === 'info' ? 'info' : 'warn',
  outputDir: join(tmpdir(), 'descartes-e2e-wdio-logs'),
  waitforTimeout: 15_000,
  connectionRetryTimeout: 60_000,
  connectionRetryCount: 1,
  framework: 'mocha',
  reporters: ['spec'],
  mochaOpts: { ui: 'bdd', timeout: 120_000 },

  onPrepare() {
    rmSync(resultsFile, { force: true });
    if (!existsSync(join(ROOT, 'dist', 'renderer', 'index.html')))
      throw new Error('dist/renderer is not built: run "npm run build:renderer" (npm run test:e2e does)');
    mkdirSync(shotsDir, { recursive: true });
  },

  beforeSession(_config, _caps, specFiles) {
    if (!electron) return;
    // The Electron app is launched by the service at session start: give it this worker's data dir.
    const slot = specFiles.join(',').length % 6;
    process.env.DESCARTES_DATA_DIR = join(tmpdir(), `descartes-e2e-electron-${process.pid}`);
    process.env.DESCARTES_EMBEDDED_PORT = String(27000 + slot * 100 + 50);
  },

  async afterTest(test, _context, outcome) {
    record(`${test.parent} ${test.title}`, outcome.passed);
    if (!outcome.passed) {
      const name = `FAILED-${test.title.replace(/[^\w-]+/g, '-').slice(0, 80)}.png`;
      await browser.saveScreenshot(join(shotsDir, name)).catch(() => undefined);
    }
  },

  afterHook(test, _context, outcome) {
    // A failing before/after hook fails its spec file without any failed test: count it too.
    if (!outcome.passed) record(`${test.parent} (hook) ${test.title}`, false);
  },

  onComplete(exitCode) {
    let passed = 0;
    let failed = 0;
    if (existsSync(resultsFile)) {
      for (const line of readFileSync(resultsFile, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        if ((JSON.parse(line) as { passed: boolean }).passed) passed++;
        else failed++;
      }
      rmSync(resultsFile, { force: true });
    }
    const note = exitCode !== 0 && failed === 0 ? ' (but the run failed: see the log above)' : '';
    console.log(`\ne2e: ${passed} passed, ${failed} failed${note}`);
  },
};
