/// <reference types="mocha" />
/**
 * Words and forms, as an operator meets them: the empty states and their actions, the spawn
 * form's backend dropdown (what the server advertises), a blank task refused inline without the
 * fields moving, the link to the new agent, an invalid regex said once, and a refused command
 * retried from the history with the retry's outcome in its row. Light and dark screenshots.
 */
import assert from 'node:assert/strict';
import { $, $$, browser } from '@wdio/globals';
import { AGENT_FIXTURE_DIR, NODE_BACKEND } from '../../helpers/agents';
import { e2eSuite } from '../helpers/e2eStack';
import {
  addServer,
  chooseBackend,
  closeSpawnDialog,
  openConsole,
  openServer,
  setTheme,
  shot,
  showFeed,
  tid,
  typeInto,
  UI_WAIT_MS,
  waitFor,
  waitOutcome,
} from '../helpers/ui';

const SERVER = 'forms farm';

/**
 * Sets the theme with its `t` shortcut (focus taken out of any field first): the toggle itself
 * is behind an open dialog's backdrop.
 */
async function themeByKey(want: 'dark' | 'light'): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const current = await browser.execute(() => document.documentElement.dataset.theme ?? '');
    if (current === want) return;
    await browser.execute(() => {
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    });
    await browser.keys('t');
  }
  throw new Error(`the t shortcut did not switch the theme to ${want}`);
}

/** Screenshots `name` in the light and the dark theme (ends in dark). */
async function shotBoth(name: string): Promise<void> {
  const dialog = await $(tid('spawn-dialog')).isExisting();
  const set = dialog ? themeByKey : setTheme;
  await set('light');
  await shot(`${name}-light`);
  await set('dark');
  await shot(`${name}-dark`);
}

/** Where each field of the spawn dialog is on the page, by test id. */
async function fieldPositions(): Promise<Record<string, { x: number; y: number }>> {
  const out: Record<string, { x: number; y: number }> = {};
  for (const id of ['spawn-backend', 'spawn-name', 'spawn-timeout', 'spawn-task', 'spawn-env-key-0']) {
    out[id] = await $(tid(id)).getLocation();
  }
  return out;
}

describe('forms: empty states, spawn form, errors said once, retry from history', function () {
  const suite = e2eSuite(12, async (stack) => {
    await stack.startServer();
    await openConsole(await stack.startApp());
  });

  it('with no server, the servers view says so and offers "Add a server"', async function () {
    await showFeed(false);
    // The console starts an embedded server when nothing is configured (and opens it): remove it.
    await $(tid('nav-servers')).click();
    const card = $(tid('server-card'));
    await card.waitForDisplayed({ timeout: 30_000, timeoutMsg: 'the embedded server card' });
    await card.$(tid('server-remove')).click();
    await $(tid('server-remove-yes')).click();
    await $(tid('servers-empty')).waitForDisplayed({
      timeout: UI_WAIT_MS,
      timeoutMsg: 'the no-servers state',
    });
    assert.match(await $(tid('servers-empty')).getText(), /No servers yet/);
    await shotBoth('empty-servers');
    await $(tid('servers-empty-action')).click();
    await $(tid('server-form')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the add-server form' });
    await $(tid('server-cancel')).click();
  });

  it('a server with no agents offers "Spawn an agent", which opens the dialog', async function () {
    await addServer(SERVER, suite.stack.endpoint, 1000, suite.stack.serverKey);
    await openServer(SERVER);
    await $(tid('agents-empty')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the no-agents state' });
    await shotBoth('empty-agents');
    await $(tid('agents-empty-action')).click();
    await $(tid('spawn-dialog')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the spawn dialog' });
  });

  it('offers the backends the server advertises, and refuses a blank task without moving the fields', async function () {
    const backend = $(tid('spawn-backend'));
    await waitFor(
      async () => (await backend.getTagName()).toLowerCase() === 'select',
      'the backend dropdown (the server advertises its backends)',
    );
    const options = await backend.$$('option').map((o) => o.getAttribute('value'));
    // Our server with the e2e config: the built-ins and the config's node backend.
    assert.deepEqual([...options], ['claude', NODE_BACKEND, 'opencode', 'shell']);
    await themeByKey('light');
    await shot('spawn-dialog-clean-light');
    const before = await fieldPositions();

    await typeInto('spawn-name', 'blank');
    await typeInto('spawn-task', '   ');
    const sends = suite.stack.execLog().length;
    await $(tid('spawn-submit')).click();
    const error = $(tid('spawn-task-error'));
    await error.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the blank-task error' });
    assert.equal(await error.getText(), 'task is required: say what the agent should do');
    assert.deepEqual(await fieldPositions(), before, 'the error appears without moving any field');
    await shotBoth('spawn-dialog-error');
    assert.equal(suite.stack.execLog().length, sends, 'nothing was sent to the server');
  });

  it('spawns via the dropdown, and "Open the new agent" opens it', async function () {
    await chooseBackend(NODE_BACKEND);
    await typeInto('spawn-name', 'linked');
    await typeInto('spawn-task', `${AGENT_FIXTURE_DIR}lines.js`);
    await $(tid('spawn-submit')).click();
    const open = $(tid('spawn-open-agent'));
    await open.waitForDisplayed({ timeout: 20_000, timeoutMsg: 'the link to the new agent' });
    await shotBoth('spawn-dialog-done');
    await open.click();
    await $(tid('agent-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the new agent' });
    await waitFor(
      async () => (await $(tid('agent-view')).getText()).includes('linked'),
      'the agent view of "linked"',
    );
    assert.equal(await $(tid('spawn-dialog')).isExisting(), false, 'the dialog closed');
  });

  it('says an invalid regular expression once, with what to do', async function () {
    await typeInto('output-filter', '(unclosed');
    const error = $(tid('output-filter-error'));
    await error.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the filter error' });
    const text = await error.getText();
    assert.equal(text.match(/invalid regular expression/gi)?.length, 1, text);
    assert.match(text, /Unterminated group.*Fix the pattern/);
    await shotBoth('regex-error');
    await $(tid('output-filter-clear')).click();
  });

  it('an agent filter that matches nothing names it and clears it', async function () {
    await $(tid('back-to-agents')).click();
    await typeInto('agents-filter', 'zzz');
    const empty = $(tid('agents-no-match'));
    await empty.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the no-match state' });
    assert.match(await empty.getText(), /No agents match “zzz”/);
    await shotBoth('empty-filter');
    await $(tid('agents-no-match-action')).click();
    await empty.waitForExist({ reverse: true, timeout: UI_WAIT_MS });
    assert.equal(await $(tid('agents-filter')).getValue(), '');
  });

  it('retries a refused command from the history and shows the retry’s outcome in its row', async function () {
    // The built-in claude backend is enabled, but its program is not installed here: refused.
    await $(tid('spawn-open')).click();
    await $(tid('spawn-dialog')).waitForDisplayed({ timeout: UI_WAIT_MS });
    await chooseBackend('claude');
    await typeInto('spawn-name', 'no-claude');
    await typeInto('spawn-task', 'say hello');
    await $(tid('spawn-submit')).click();
    await waitOutcome('spawn-outcome', 'Refused', 'the refused spawn');
    const refusal = await $(`${tid('spawn-outcome')} [data-status]`).getText();
    assert.equal(refusal.match(/refused/gi)?.length, 2, `lead and title, no repeats: ${refusal}`);
    await closeSpawnDialog();

    await $(tid('nav-queue')).click();
    let rowId = '';
    await waitFor(async () => {
      for (const row of await $$('[data-testid^="history-row-"]').getElements()) {
        if (
          (await row.getText()).includes('no-claude') &&
          (await row.getAttribute('data-state')) === 'failed'
        ) {
          rowId = (await row.getAttribute('data-command-id')) ?? '';
          return true;
        }
      }
      return false;
    }, 'the refused spawn in the history');
    await shotBoth('history-retry');
    await $(tid(`history-retry-${rowId}`)).click();
    const result = $(tid(`history-retry-result-${rowId}`));
    await waitFor(
      async () => (await result.getAttribute('data-state')) === 'failed',
      'the retry to be refused too',
    );
    assert.match(await result.getText(), /^Retried as [0-9a-f]{8}: refused: .*claude.*not found\.$/);
    await shotBoth('history-retried');
    // The server received the spawn twice: once, then once for the retry (a new request id).
    const spawns = suite.stack.execLog().filter((r) => r.type === 'spawn_request');
    assert.equal(spawns.length, 3, 'linked, no-claude, and its retry');
  });

  it('an empty queue says what waits there', async function () {
    const empty = $(tid('queue-empty'));
    await empty.waitForDisplayed({ timeout: UI_WAIT_MS });
    assert.match(await empty.getText(), /Commands issued while a server is offline wait here/);
    await shotBoth('empty-queue');
  });
});
