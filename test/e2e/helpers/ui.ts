/**
 * What an operator does in the console, as WebdriverIO steps on `data-testid` hooks
 * (`renderer/TESTIDS.md`). Every wait names what it waited for, so a failure says which step.
 */
import { AssertionError } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { $, $$, browser } from '@wdio/globals';
import type { FixtureAgent } from '../../helpers/agents';
import { AGENT_FIXTURE_DIR, NODE_BACKEND } from '../../helpers/agents';

/** Where screenshots go (never committed): `E2E_SHOTS_DIR` or `/tmp/e2e-shots`. */
export const SHOTS_DIR = process.env.E2E_SHOTS_DIR ?? '/tmp/e2e-shots';

/** CSS selector of a test id. */
export const tid = (id: string): string => `[data-testid="${id}"]`;

/** Default wait for UI changes, ms (server round trips plus the ~20 Hz event batching). */
export const UI_WAIT_MS = 15_000;

/** Saves a PNG of the whole window as `<SHOTS_DIR>/<name>.png`. */
export async function shot(name: string): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  // Let transitions and the frame batcher settle so the picture shows the final state.
  await browser.pause(250);
  await browser.saveScreenshot(join(SHOTS_DIR, `${name}.png`));
}

/** Waits until `probe` returns true; the error names `what`. */
export async function waitFor(
  probe: () => Promise<boolean>,
  what: string,
  timeout = UI_WAIT_MS,
): Promise<void> {
  await browser.waitUntil(probe, { timeout, interval: 100, timeoutMsg: `timed out waiting for ${what}` });
}

/**
 * Waits until the command outcome inside test id `id` (a CommandOutcome) shows `status`
 * (`Done`, `Refused`, `Queued`, …); the error names `what`. Specs wait on outcomes this way often.
 */
export async function waitOutcome(id: string, status: string, what: string): Promise<void> {
  await waitFor(
    async () => (await $(`${tid(id)} [data-status]`).getAttribute('data-status')) === status,
    what,
  );
}

/** Saves `<name>-light` and `<name>-dark` (in that order: the dark theme stays on). */
export async function shotBothThemes(name: string): Promise<void> {
  await setTheme('light');
  await shot(`${name}-light`);
  await setTheme('dark');
  await shot(`${name}-dark`);
}

/** Opens the console page (an empty URL: the page already shown, e.g. Electron's window) and waits for the shell. */
export async function openConsole(url: string): Promise<void> {
  if (url !== '') await browser.url(url);
  await $(tid('nav-servers')).waitForExist({ timeout: UI_WAIT_MS, timeoutMsg: 'the console shell' });
}

/** Replaces an input's value (clearValue alone does not fire Vue's input event everywhere). */
export async function typeInto(id: string, text: string): Promise<void> {
  const el = $(tid(id));
  await el.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: `input ${id}` });
  await el.click();
  await browser.keys(['Control', 'a']);
  await browser.keys(['Backspace']);
  if (text !== '') await el.addValue(text);
}

/** The first element matching `selector` whose `inner` element's text is exactly `text`, or null. */
async function findByText(
  selector: string,
  inner: string,
  text: string,
): Promise<WebdriverIO.Element | null> {
  for (const el of await $$(selector).getElements()) {
    const label = el.$(inner);
    if ((await label.isExisting()) && (await label.getText()).trim() === text) return el;
  }
  return null;
}

/** The server card named `name`, once it exists. */
export async function serverCard(name: string): Promise<WebdriverIO.Element> {
  return waitForElement(
    () => findByText(tid('server-card'), tid('server-card-name'), name),
    `server card "${name}"`,
  );
}

/** Polls `find` until it returns an element. @throws Error naming `what` after {@link UI_WAIT_MS} */
async function waitForElement(
  find: () => Promise<WebdriverIO.Element | null>,
  what: string,
): Promise<WebdriverIO.Element> {
  const found: { el: WebdriverIO.Element | null } = { el: null };
  await waitFor(async () => {
    found.el = await find();
    return found.el !== null;
  }, what);
  if (found.el === null) throw new Error(`${what} not found`);
  return found.el;
}

/**
 * A wait for the element `find(name)` to have `attribute` = the value asked for, which then
 * returns that element's `idAttribute` (`noun` names the wait in a timeout).
 */
function attributeWait(
  find: (name: string) => Promise<WebdriverIO.Element>,
  attribute: string,
  idAttribute: string,
  noun: string,
): (name: string, value: string, timeout?: number) => Promise<string> {
  return async (name, value, timeout = UI_WAIT_MS) => {
    await waitFor(
      async () => (await (await find(name)).getAttribute(attribute)) === value,
      `${noun} "${name}" to be ${value}`,
      timeout,
    );
    return (await (await find(name)).getAttribute(idAttribute)) ?? '';
  };
}

/** Waits for a server card to reach a state (`name`, `state`, `timeout`); returns its server id. */
export const waitServerState = attributeWait(serverCard, 'data-state', 'data-server-id', 'server');

/**
 * Fills the server form's security: pins `serverKey` (encrypted), or with null chooses plain
 * and confirms it, as an operator must.
 */
export async function chooseSecurity(serverKey: string | null): Promise<void> {
  if (serverKey === null) {
    await $(tid('server-security-plain')).click();
    await $(tid('server-plain-confirm')).click();
  } else {
    await $(tid('server-security-curve')).click();
    await typeInto('server-key', serverKey);
  }
}

/**
 * Adds a server in the servers view and waits until it is online; returns its id.
 * @param serverKey the server's public key to pin, or null for a plain (`--insecure`) server
 */
export async function addServer(
  name: string,
  endpoint: string,
  heartbeatMs: number,
  serverKey: string | null,
): Promise<string> {
  await $(tid('nav-servers')).click();
  await $(tid('server-add')).click();
  await typeInto('server-name', name);
  await typeInto('server-endpoint', endpoint);
  await typeInto('server-heartbeat', String(heartbeatMs));
  await chooseSecurity(serverKey);
  await $(tid('server-save')).click();
  return waitServerState(name, 'online', 20_000);
}

/** Opens a server's agents view from the servers view. */
export async function openServer(name: string): Promise<void> {
  await $(tid('nav-servers')).click();
  await (await serverCard(name)).$(tid('server-open')).click();
  await $(tid('agents-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the agents view' });
}

/**
 * Picks `name` in the spawn dialog's backend field: the dropdown of the backends the server
 * advertises, or the text field of a server that lists none.
 */
export async function chooseBackend(name: string): Promise<void> {
  const field = $(tid('spawn-backend'));
  await field.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the backend field' });
  if ((await field.getTagName()).toLowerCase() === 'select') await field.selectByAttribute('value', name);
  else await typeInto('spawn-backend', name);
}

/** What the spawn dialog reported. */
export interface SpawnOutcome {
  /** `data-status` of the outcome banner: `Done`, `Queued`, `Refused`… */
  status: string;
  text: string;
}

/**
 * Fills the spawn dialog for a fixture agent (node backend) and submits it; leaves the dialog
 * open (call {@link closeSpawnDialog}).
 */
export async function spawnFixture(
  name: string,
  script: FixtureAgent,
  env: Record<string, string> = {},
): Promise<SpawnOutcome> {
  if (!(await $(tid('spawn-dialog')).isExisting())) await $(tid('spawn-open')).click();
  await $(tid('spawn-dialog')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the spawn dialog' });
  await chooseBackend(NODE_BACKEND);
  await typeInto('spawn-name', name);
  await typeInto('spawn-task', AGENT_FIXTURE_DIR + script);
  const entries = Object.entries(env);
  for (let i = 0; i < entries.length; i++) {
    if (!(await $(tid(`spawn-env-key-${i}`)).isExisting())) await $(tid('spawn-env-add')).click();
    const [key, value] = entries[i] ?? ['', ''];
    await typeInto(`spawn-env-key-${i}`, key);
    await typeInto(`spawn-env-value-${i}`, value);
  }
  // Rows left over from a previous spawn in the same dialog are emptied (an empty row is ignored).
  for (let i = entries.length; await $(tid(`spawn-env-key-${i}`)).isExisting(); i++) {
    await typeInto(`spawn-env-key-${i}`, '');
    await typeInto(`spawn-env-value-${i}`, '');
  }
  const previous = await outcomeBannerText('spawn-outcome');
  await $(tid('spawn-submit')).click();
  let outcome: SpawnOutcome = { status: '', text: '' };
  await waitFor(async () => {
    const banner = $(`${tid('spawn-outcome')} [data-status]`);
    if (!(await banner.isExisting())) return false;
    const text = await banner.getText();
    if (text === previous) return false;
    outcome = { status: (await banner.getAttribute('data-status')) ?? '', text };
    return true;
  }, `the outcome of spawning "${name}"`);
  return outcome;
}

async function outcomeBannerText(id: string): Promise<string> {
  const banner = $(`${tid(id)} [data-status]`);
  return (await banner.isExisting()) ? banner.getText() : '';
}

export async function closeSpawnDialog(): Promise<void> {
  await $(tid('spawn-cancel')).click();
  await $(tid('spawn-dialog')).waitForExist({ reverse: true, timeout: UI_WAIT_MS });
}

/** The row of the agent named `name` (clears the table filter so the row is rendered). */
export async function agentRow(name: string): Promise<WebdriverIO.Element> {
  if ((await $(tid('agents-filter')).getValue()) !== '') await typeInto('agents-filter', '');
  return waitForElement(
    () => findByText(tid('agent-row'), tid('agent-open'), name),
    `the row of agent "${name}"`,
  );
}

/** Waits for the row of an agent to show a status (`name`, `status`, `timeout`); returns the agent id. */
export const waitAgentStatus = attributeWait(agentRow, 'data-status', 'data-agent-id', 'agent');

/**
 * Spawns one long-running `lines.js` agent per name from the agents view, closes the dialog and
 * waits until each row shows running; returns their ids by name.
 * @throws AssertionError when a spawn is not `Done`
 */
export async function spawnRunning(names: readonly string[]): Promise<Map<string, string>> {
  for (const name of names) {
    const outcome = await spawnFixture(name, 'lines.js');
    if (outcome.status !== 'Done') throw new AssertionError({ message: `spawn ${name}: ${outcome.text}` });
  }
  await closeSpawnDialog();
  const ids = new Map<string, string>();
  for (const name of names) ids.set(name, await waitAgentStatus(name, 'running'));
  return ids;
}

/** Texts of the rendered output lines (line number column stripped). */
export async function outputLines(): Promise<string[]> {
  const lines = await $$(`${tid('output-line')} .text`).map((el) => el.getText());
  return [...lines];
}

/** Shows or hides the status feed. */
export async function showFeed(show: boolean): Promise<void> {
  if ((await $(tid('status-feed')).isDisplayed()) !== show) await $(tid('feed-toggle')).click();
  await $(tid('status-feed')).waitForDisplayed({ reverse: !show, timeout: UI_WAIT_MS });
}

/** Sets the theme to `want` by clicking the toggle until it shows it. */
export async function setTheme(want: 'dark' | 'light'): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const current = await browser.execute(() => document.documentElement.dataset.theme ?? '');
    if (current === want) return;
    await $(tid('theme-toggle')).click();
  }
  throw new Error(`the theme toggle did not switch to ${want}`);
}

/** Waits until the element with test id `id` is displayed (or, with `gone`, no longer exists). */
export async function waitShown(id: string, gone = false): Promise<void> {
  const el = $(tid(id));
  if (gone) await el.waitForExist({ reverse: true, timeout: UI_WAIT_MS, timeoutMsg: `${id} to go away` });
  else await el.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: `${id} to be shown` });
}

/**
 * Answers the stop/kill confirmation (ConfirmDialog): `confirm` clicks its confirm button,
 * `cancel` its Cancel. Returns the question it asked, e.g. "Kill agent build-1?".
 */
export async function answerConfirm(answer: 'confirm' | 'cancel'): Promise<string> {
  await waitShown('confirm-dialog');
  const question = await $(tid('confirm-question')).getText();
  await $(tid(answer === 'confirm' ? 'confirm-yes' : 'confirm-cancel')).click();
  await waitShown('confirm-dialog', true);
  return question;
}
