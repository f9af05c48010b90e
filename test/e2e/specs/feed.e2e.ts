/// <reference types="mocha" />
/**
 * The status feed end to end: a custom action the agent refuses shows as one feed row (not one
 * per announcement), still there after a reload; the row opens its agent, and its Retry link
 * opens the command in the history. Real console process, real agent server, real browser.
 */
import assert from 'node:assert/strict';
import { $, $$, browser } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import { agentRow, closeSpawnDialog, spawnFixture, waitAgentStatus, waitOutcome } from '../helpers/ui';
import { setTheme, shot, shotBothThemes, showFeed, tid, typeInto, UI_WAIT_MS } from '../helpers/ui';

const SERVER = 'feed farm';

/** Feed rows about command `id`. */
const rowsOf = (id: string) => $$(`${tid('feed-entry')}[data-command-id="${id}"]`);
/** The (first) feed row about command `id`. */
const rowOf = (id: string) => $(`${tid('feed-entry')}[data-command-id="${id}"]`);

describe('status feed: one row per refusal, kept across reloads, linked to agent and history', function () {
  e2eSuite(11, (stack) => openConsoleOnServer(stack, SERVER));
  let commandId = '';
  let agentId = '';

  it('shows a refused action once, with the agent name', async function () {
    await showFeed(true);
    await spawnFixture('actor', 'action-agent.js');
    await closeSpawnDialog();
    await waitAgentStatus('actor', 'running');
    await (await agentRow('actor')).$(tid('agent-open')).click();
    agentId = (await $(tid('agent-view')).getAttribute('data-agent-id')) ?? '';
    await $(tid('agent-tab-actions')).click();
    await typeInto('action-name', 'fail');
    await typeInto('action-params', '');
    await $(tid('action-run')).click();
    await waitOutcome('action-outcome', 'Refused', 'the refused action outcome');
    const failed = $(`${tid('feed-entry')}[data-level="error"][data-agent-id="${agentId}"]`);
    await failed.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the refusal in the feed' });
    commandId = (await failed.getAttribute('data-command-id')) ?? '';
    assert.match(commandId, /^[0-9a-f-]{36}$/);

    // Settle: once the history lists the command as failed, every announcement of it is out.
    await $(tid('nav-queue')).click();
    await $(`${tid(`history-row-${commandId}`)}[data-state="failed"]`).waitForDisplayed({
      timeout: UI_WAIT_MS,
    });
    await $(tid('nav-queue')).click();
    assert.equal((await rowsOf(commandId).getElements()).length, 1, 'one refusal, one row');
    const row = rowOf(commandId);
    assert.equal(await row.$(tid('feed-agent-link')).getText(), 'actor');
    assert.match(await row.$(tid('feed-level')).getText(), /error/);
    assert.match((await row.$(tid('feed-message')).getAttribute('title')) ?? '', /deliberate failure/);
    // One line: the row is as tall as any other row.
    const heights = new Set<number>();
    for (const el of await $$(tid('feed-entry')).getElements()) heights.add((await el.getSize()).height);
    assert.equal(heights.size, 1, `every row one line, got heights ${[...heights].join(', ')}`);

    await setTheme('dark');
    await shot('feed-refusal-dark');
    await setTheme('light');
    await shot('feed-refusal-light');
  });

  it('still shows it once after a reload', async function () {
    await browser.refresh();
    await $(tid('nav-servers')).waitForExist({ timeout: UI_WAIT_MS });
    await showFeed(true);
    await rowOf(commandId).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the saved refusal' });
    assert.equal((await rowsOf(commandId).getElements()).length, 1);
    assert.equal(await rowOf(commandId).$(tid('feed-agent-link')).getText(), 'actor');
  });

  it('opens the agent of a row, and the command in the history', async function () {
    await rowOf(commandId).$(tid('feed-agent-link')).click();
    await $(`${tid('agent-view')}[data-agent-id="${agentId}"]`).waitForDisplayed({
      timeout: UI_WAIT_MS,
      timeoutMsg: "the row's agent",
    });
    await rowOf(commandId).$(tid('feed-retry-link')).click();
    await $(`${tid(`history-row-${commandId}`)}[aria-current="true"]`).waitForDisplayed({
      timeout: UI_WAIT_MS,
      timeoutMsg: 'the command in the history',
    });
    assert.equal(
      (await $$('[data-testid^="history-row-"]').getElements()).length,
      1,
      'the history shows that command',
    );
    await shot('feed-history-light');
    await setTheme('dark');
    await shot('feed-history-dark');
  });

  it('in a narrow window the view keeps the width and the feed goes below it', async function () {
    await browser.setWindowSize(480, 800);
    try {
      await $(tid('nav-servers')).click();
      const main = await $('main.main').getSize();
      const view = await $('main.main').getLocation();
      const feed = await $(tid('status-feed')).getLocation();
      const width = await browser.execute(() => document.documentElement.clientWidth);
      assert.equal(main.width, width, 'the view spans the window');
      assert.ok(feed.y >= view.y + main.height - 1, `the feed (y ${feed.y}) is below the view`);
      await shotBothThemes('narrow-480');
    } finally {
      await browser.setWindowSize(1400, 900);
    }
  });
});
