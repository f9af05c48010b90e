/**
 * Debian's Chromium for WebdriverIO, shared by the e2e suite (`wdio.conf.ts`) and the UI
 * benchmark (`bench/ui.bench.ts`). Both binaries are named and no `browserVersion` is given, so
 * WebdriverIO never downloads a browser or a driver (it would fail offline anyway).
 */

/** Chromium flags: headless, no sandbox (root in CI), and nothing that phones home or updates. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--window-size=1400,900',
];

export const CHROMIUM_BINARY = '/usr/bin/chromium';
export const CHROMEDRIVER_BINARY = '/usr/bin/chromedriver';

/** The capabilities of a headless Chromium session (Debian packages `chromium`, `chromium-driver`). */
export const chromiumCapabilities = {
  browserName: 'chrome',
  'goog:chromeOptions': { binary: CHROMIUM_BINARY, args: CHROMIUM_ARGS },
  'wdio:chromedriverOptions': { binary: CHROMEDRIVER_BINARY },
} satisfies WebdriverIO.Capabilities;
