/// <reference types="mocha" />
/**
 * An operator's first session: add an agent server, spawn agents and watch their status change,
 * drive one with the controls, query its output with a regex, run a custom action, read the
 * status feed, switch the theme. Real console process, real agent server, fresh data dir.
 */
import assert from 'node:assert/strict';
import { $, $$, browser } from '@wdio/globals';
import { e2eSuite } from '../helpers/e2eStack';
import {
  addServer,
  agentRow,
  answerConfirm,
  closeSpawnDialog,
  openConsole,
  openServer,
  outputLines,
  setTheme,
  shot,
  shotBothThemes,
  showFeed,
  spawnFixture,
  tid,
  typeInto,
  UI_WAIT_MS,
  waitAgentStatus,
  waitFor,
  waitOutcome,
} from '../helpers/ui';

const SERVER = 'e2e farm';

describe('agents: spawn, status, controls, output, actions', function () {
  const suite = e2eSuite(0, async (stack) => {
    await stack.startServer();
    await openConsole(await stack.startApp());
  });

  it('adds the agent server in the servers view and shows it online with its capabilities', async function () {
    const id = await addServer(SERVER, suite.stack.endpoint, 1000, suite.stack.serverKey);
    assert.notEqual(id, '');
    const card = $(`${tid('server-card')}[data-server-id="${id}"]`);
    const caps = await card.$(tid('server-capabilities')).getText();
    assert.match(caps, /dedupe/, 'a full server advertises dedupe');
    assert.match(caps, /batch/);
    await shot('servers');
  });

  it('spawns an agent and watches its status change from running to completed', async function () {
    await openServer(SERVER);
    const outcome = await spawnFixture('short-job', 'lines.js', {
      EXIT_AFTER: '1',
      LINE_DELAY_MS: '700',
    });
    assert.equal(outcome.status, 'Done', outcome.text);
    await shot('spawn-dialog');
    await closeSpawnDialog();
    const id = await waitAgentStatus('short-job', 'running');
    assert.match(id, /^[0-9a-f-]{36}$/);
    // Five lines 700 ms apart, then exit 0: the status stream turns the row to completed.
    await waitAgentStatus('short-job', 'completed', 20_000);
  });

  it('pauses (forced), resumes and stops an agent from the agent view', async function () {
    await spawnFixture('worker', 'lines.js');
    await closeSpawnDialog();
    await waitAgentStatus('worker', 'running');
    await (await agentRow('worker')).$(tid('agent-open')).click();
    const status = $(tid('agent-status'));
    await waitFor(async () => (await status.getAttribute('data-state')) === 'running', 'agent view: running');

    await $(tid('agent-force')).click();
    await $(tid('agent-pause')).click();
    await waitFor(async () => (await status.getAttribute('data-state')) === 'paused', 'agent view: paused');
    await waitOutcome('agent-command-outcome', 'Done', 'the pause outcome');
    await shot('agent-view-controls');

    await $(tid('agent-resume')).click();
    await waitFor(async () => (await status.getAttribute('data-state')) === 'running', 'agent view: resumed');
  });

  it('queries the output with a regex filter and rejects an invalid one before sending', async function () {
    // worker prints: out one, err two, out three, err four, out five (both streams by default).
    await waitFor(async () => /5 line/.test(await $(tid('output-count')).getText()), 'five output lines');
    await typeInto('output-filter', '^(out|err) (one|four)$');
    await browser.keys(['Enter']);
    await waitFor(
      async () => /2 line\(s\) matching/.test(await $(tid('output-count')).getText()),
      'the filtered count',
    );
    await waitFor(async () => (await outputLines()).length === 2, 'two filtered lines rendered');
    assert.deepEqual(await outputLines(), ['out one', 'err four']);
    await shot('output-regex');

    await $(tid('output-stream-stdout')).click();
    await waitFor(
      async () => /1 line\(s\) matching/.test(await $(tid('output-count')).getText()),
      'stdout only: one match',
    );
    assert.deepEqual(await outputLines(), ['out one']);

    await typeInto('output-filter', '(unclosed');
    await $(tid('output-filter-error')).waitForDisplayed({ timeout: UI_WAIT_MS });
    assert.equal(
      await $(tid('output-filter-apply')).isEnabled(),
      false,
      'an invalid regex cannot be applied',
    );
    // The filter still in force is named in the error and the count, never hidden.
    assert.match(
      await $(tid('output-filter-error')).getText(),
      /Still applied: “\^\(out\|err\) \(one\|four\)\$”\.$/,
    );
    assert.equal(await $(tid('output-count')).getText(), '1 line(s) matching “^(out|err) (one|four)$”');
    await shotBothThemes('output-regex-refused');
    await $(tid('output-filter-clear')).click();
  });

  it('stops the agent and sees it terminated', async function () {
    const status = $(tid('agent-status'));
    await $(tid('agent-stop')).click();
    await answerConfirm('confirm');
    await waitFor(
      async () => (await status.getAttribute('data-state')) === 'terminated',
      'agent view: terminated',
    );
  });

  it('runs a custom action the agent answers, and shows its result', async function () {
    await $(tid('back-to-agents')).click();
    await spawnFixture('actor', 'action-agent.js');
    await closeSpawnDialog();
    await waitAgentStatus('actor', 'running');
    await (await agentRow('actor')).$(tid('agent-open')).click();
    await $(tid('agent-tab-actions')).click();
    await typeInto('action-name', 'add');
    // Not a built-in of the server: it goes to the agent, and the form says so before it is sent.
    await $(tid('action-unlisted')).waitForDisplayed({
      timeout: UI_WAIT_MS,
      timeoutMsg: 'the unlisted note',
    });
    assert.match(await $(tid('action-unlisted')).getText(), /^“add” is not one of the listed actions/);
    await typeInto('action-params', '{"a": 2, "b": 40}');
    await shotBothThemes('custom-action-unlisted');
    await $(tid('action-run')).click();
    await $(tid('action-result')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the action result' });
    assert.match(await $(tid('action-result')).getText(), /42/);

    // An action the agent refuses: the outcome says so, with the agent's reason.
    await typeInto('action-name', 'fail');
    await typeInto('action-params', '');
    await $(tid('action-run')).click();
    await waitFor(
      async () =>
        /deliberate failure/.test(await $(tid('action-form')).getText()) &&
        (await $(`${tid('action-outcome')} [data-status]`).getAttribute('data-status')) === 'Refused',
      'the refused action outcome',
    );
    await typeInto('action-name', 'add');
    await typeInto('action-params', '{"a": 2, "b": 40}');
    await $(tid('action-run')).click();
    await waitOutcome('action-outcome', 'Done', 'the action outcome');
    await shot('custom-action');
  });

  it('shows status changes in the status feed, in dark and light themes', async function () {
    await showFeed(true);
    // The refused action and the stopped agent are in the feed.
    await waitFor(async () => (await $$(tid('feed-entry')).length) > 0, 'a feed entry');
    await $(tid('nav-agents')).click();
    await $(tid('agents-view')).waitForDisplayed({ timeout: UI_WAIT_MS });
    await setTheme('dark');
    await shot('status-feed-dark');
    await setTheme('light');
    assert.equal(await browser.execute(() => document.documentElement.dataset.theme), 'light');
    await shot('status-feed-light');
    await $(tid('nav-servers')).click();
    await shot('servers-light');
    await setTheme('dark');
  });
});
