/// <reference types="mocha" />
/**
 * Batch control where one agent fails: three running agents and one that has already exited
 * are stopped in one batch ("continue with the others"); the panel shows one result per agent,
 * the exited one as a failure with the server's reason.
 */
import assert from 'node:assert/strict';
import { $, $$ } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import {
  answerConfirm,
  closeSpawnDialog,
  shot,
  spawnFixture,
  tid,
  UI_WAIT_MS,
  waitAgentStatus,
  waitFor,
} from '../helpers/ui';

const SERVER = 'batch farm';
const RUNNING = ['alpha', 'bravo', 'charlie'] as const;

describe('batch: one agent fails, the others succeed', function () {
  const suite = e2eSuite(1, (stack) => openConsoleOnServer(stack, SERVER));
  const ids = new Map<string, string>();

  it('lists several agents with their live status', async function () {
    for (const name of RUNNING) {
      const outcome = await spawnFixture(name, 'lines.js');
      assert.equal(outcome.status, 'Done', outcome.text);
    }
    const exited = await spawnFixture('finished', 'exit.js', { EXIT_MESSAGE: 'bye' });
    assert.equal(exited.status, 'Done', exited.text);
    await closeSpawnDialog();
    for (const name of RUNNING) ids.set(name, await waitAgentStatus(name, 'running'));
    ids.set('finished', await waitAgentStatus('finished', 'completed'));
    assert.match(await $(tid('agents-count')).getText(), /4 agents/);
    await shot('agents-table');
  });

  it('stops all four in one batch and reads the per-agent results', async function () {
    await $(tid('agents-select-all')).click();
    await waitFor(
      async () => /4 agents selected/.test(await $(tid('agents-selected-count')).getText()),
      'four agents selected',
    );
    await $(tid('batch-open')).click();
    await $(tid('batch-panel')).waitForDisplayed({ timeout: UI_WAIT_MS });
    await $(tid('batch-command')).selectByAttribute('value', 'stop');
    await $(tid('batch-continue')).click();
    await $(tid('batch-run')).click();
    assert.match(await answerConfirm('confirm'), /^Stop 4 agents: /);

    await $(tid('batch-outcome')).waitForDisplayed({ timeout: 20_000, timeoutMsg: 'the batch outcome' });
    await waitFor(async () => (await $$(tid('batch-result')).length) === 4, 'four batch results');
    const states = new Map<string, string>();
    const texts = new Map<string, string>();
    for (const cell of await $$(tid('batch-result')).getElements()) {
      const id = (await cell.getAttribute('data-agent-id')) ?? '';
      states.set(id, (await cell.getAttribute('data-state')) ?? '');
      texts.set(id, await cell.getText());
    }
    for (const name of RUNNING) assert.equal(states.get(ids.get(name) ?? ''), 'success', `${name} stopped`);
    const finished = ids.get('finished') ?? '';
    assert.equal(states.get(finished), 'failure', 'the exited agent cannot be stopped');
    assert.match(texts.get(finished) ?? '', /already exited/);
    assert.match(await $(tid('batch-count-success')).getText(), /3/);
    assert.match(await $(tid('batch-count-failure')).getText(), /1/);
    assert.equal(await $(tid('batch-retry-failed')).isEnabled(), true, 'the failed agent can be retried');
    await shot('batch-panel-results');

    // The server ran the batch once, for the four agents.
    const batches = suite.stack.execLog().filter((r) => r.type === 'batch_control_command');
    assert.equal(batches.length, 1);
    assert.deepEqual([...(batches[0]?.agent_ids ?? [])].sort(), [...ids.values()].sort());
  });

  it('shows the stopped agents as terminated in the table', async function () {
    await $(tid('batch-close')).click();
    for (const name of RUNNING) await waitAgentStatus(name, 'terminated');
  });
});
