/// <reference types="mocha" />
/**
 * The durable queue end to end: stop the agent server, issue commands and see them queued;
 * restart the console (same data dir) and see them still queued; restart the server and see
 * each delivered exactly once — in the UI (queue panel empty, one history entry each) and in
 * the server's exec log (one execution per request id).
 */
import assert from 'node:assert/strict';
import { $, $$, browser } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import {
  agentRow,
  closeSpawnDialog,
  openConsole,
  openServer,
  shot,
  showFeed,
  spawnFixture,
  tid,
  UI_WAIT_MS,
  waitAgentStatus,
  waitFor,
  waitOutcome,
  waitServerState,
} from '../helpers/ui';

const SERVER = 'queue farm';

/** `data-command-id` → `data-state` of every rendered element matching `selector`. */
async function commandStates(selector: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const el of await $$(selector).getElements()) {
    out.set((await el.getAttribute('data-command-id')) ?? '', (await el.getAttribute('data-state')) ?? '');
  }
  return out;
}

async function openQueue(): Promise<void> {
  if (!(await $(tid('queue-view')).isExisting())) await $(tid('nav-queue')).click();
  await $(tid('queue-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the queue view' });
}

describe('queue: commands issued while the server is down are delivered once after restarts', function () {
  const suite = e2eSuite(2, (stack) => openConsoleOnServer(stack, SERVER));
  let queued: string[] = [];

  it('stops the server, issues commands and sees them queued', async function () {
    assert.equal((await spawnFixture('keeper', 'lines.js')).status, 'Done');
    await closeSpawnDialog();
    await waitAgentStatus('keeper', 'running');

    // Killed (kill -9), it cannot report that its agents ended with it: the console shows keeper
    // as last known, running, so Pause is offered and queued (a clean stop would have said
    // "terminated" first, and Pause would rightly be refused on an ended agent).
    await suite.stack.server?.kill();
    await $(tid('nav-servers')).click();
    await waitServerState(SERVER, 'offline', 30_000);
    await openServer(SERVER);

    for (const name of ['late-one', 'late-two']) {
      const outcome = await spawnFixture(name, 'lines.js');
      assert.equal(outcome.status, 'Queued', outcome.text);
    }
    await closeSpawnDialog();
    // The killed server took its agents down: this pause is delivered but refused later (the
    // restarted server remembers keeper as lost).
    await (await agentRow('keeper')).$(tid('agent-open')).click();
    await $(tid('agent-pause')).click();
    await waitOutcome('agent-command-outcome', 'Queued', 'the pause to be queued');

    await openQueue();
    await waitFor(async () => (await $$(tid('queue-item')).length) === 3, 'three queued commands');
    const states = await commandStates(tid('queue-item'));
    assert.deepEqual([...states.values()], ['queued', 'queued', 'queued']);
    queued = [...states.keys()];
    assert.equal(await $(tid('nav-queue-count')).getText(), '3');
    assert.equal(
      suite.stack.execLog().filter((r) => queued.includes(r.request_id)).length,
      0,
      'nothing reached the server',
    );
    await shot('queue-offline');
  });

  it('restarts the console on the same data dir: the commands are still queued', async function () {
    await suite.stack.stopApp();
    await openConsole(await suite.stack.startApp());
    await openQueue();
    await waitFor(
      async () => (await $$(tid('queue-item')).length) === 3,
      'three queued commands after restart',
    );
    const states = await commandStates(tid('queue-item'));
    assert.deepEqual([...states.keys()].sort(), [...queued].sort());
    for (const state of states.values()) assert.equal(state, 'queued');
  });

  it('restarts the server: each command is delivered exactly once', async function () {
    await suite.stack.startServer();
    await $(tid('queue-empty')).waitForDisplayed({
      timeout: 45_000,
      timeoutMsg: 'the queue to drain after the server came back',
    });
    await waitFor(async () => {
      const history = await commandStates('[data-testid^="history-row-"]');
      return queued.every((id) => history.has(id));
    }, 'the three commands in the history');
    const history = await commandStates('[data-testid^="history-row-"]');
    const outcomes = queued.map((id) => history.get(id)).sort();
    // Two spawns ran; the pause reached the new server, which no longer knows the agent.
    assert.deepEqual(outcomes, ['failed', 'succeeded', 'succeeded']);
    const historyIds = (
      await $$('[data-testid^="history-row-"]').map((el) => el.getAttribute('data-command-id'))
    ).filter((id) => id !== null && queued.includes(id));
    assert.equal(historyIds.length, 3, 'one history entry per command');
    await showFeed(false);
    await shot('queue-history');
    await showFeed(true);

    // Give any (wrong) resend time to happen, then count executions per request id.
    await browser.pause(2000);
    const runs = suite.stack.execLog();
    for (const id of queued) {
      assert.equal(runs.filter((r) => r.request_id === id).length, 1, `request ${id} ran exactly once`);
    }
    assert.deepEqual(
      runs
        .filter((r) => queued.includes(r.request_id))
        .map((r) => r.type)
        .sort(),
      ['control_command', 'spawn_request', 'spawn_request'],
    );
  });

  it('shows the agents the queued spawns started', async function () {
    await openServer(SERVER);
    await waitAgentStatus('late-one', 'running');
    await waitAgentStatus('late-two', 'running');
  });
});
