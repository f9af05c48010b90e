/// <reference types="mocha" />
/**
 * Safe controls against a real agent server: Kill asks first and names the agent, Escape
 * cancels (the agent keeps running, the server never hears of it), confirming kills it; the
 * `K` shortcut asks too, and "don't ask again" skips the next question of the session; Resume
 * is off on a running agent and says why; a batch stop of three agents names the count. Shots
 * of the dialog, the agent view and every state badge, light and dark.
 */
import assert from 'node:assert/strict';
import { $, browser } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import {
  agentRow,
  answerConfirm,
  closeSpawnDialog,
  setTheme,
  shot,
  spawnFixture,
  tid,
  waitAgentStatus,
  waitFor,
  waitShown,
} from '../helpers/ui';

const SERVER = 'controls farm';
const LIVE = ['build-1', 'build-2', 'build-3', 'held', 'batch-a', 'batch-b', 'batch-c'] as const;

describe('safe controls: confirmation, applicable controls, truthful badges', function () {
  const suite = e2eSuite(10, (stack) => openConsoleOnServer(stack, SERVER));
  const ids = new Map<string, string>();
  /** The control commands the server received, as `<command> <agent name>`. */
  const received = (): string[] => {
    const names = new Map([...ids].map(([name, id]) => [id, name]));
    return suite.stack
      .execLog()
      .filter((r) => r.type === 'control_command')
      .map((r) => `${r.command_type ?? ''} ${names.get(r.agent_id ?? '') ?? r.agent_id ?? ''}`);
  };
  const activeTestId = (): Promise<string> =>
    browser.execute(() => document.activeElement?.getAttribute('data-testid') ?? '');

  /**
   * Saves `<name>-dark` then `<name>-light` of the confirmation `open` brings up (the theme
   * toggle sits behind the dialog, so each theme gets its own dialog, cancelled with Escape),
   * and ends with the light one open.
   */
  async function confirmShots(name: string, open: () => Promise<void>): Promise<void> {
    for (const theme of ['dark', 'light'] as const) {
      await setThemeByKey(theme);
      await open();
      await waitShown('confirm-dialog');
      await shot(`${name}-${theme}`);
      if (theme === 'dark') {
        await browser.keys('Escape');
        await waitShown('confirm-dialog', true);
      }
    }
  }
  /** The `t` shortcut, which works behind the batch panel too. */
  async function setThemeByKey(want: 'dark' | 'light'): Promise<void> {
    await browser.execute(() => {
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    });
    for (let i = 0; i < 2; i++) {
      if ((await browser.execute(() => document.documentElement.dataset.theme ?? '')) === want) return;
      await browser.keys('t');
    }
    await waitFor(
      async () => (await browser.execute(() => document.documentElement.dataset.theme ?? '')) === want,
      `the ${want} theme`,
    );
  }

  async function openAgent(name: string): Promise<void> {
    await (await agentRow(name)).$(tid('agent-open')).click();
    await waitShown('agent-view');
  }
  async function backToAgents(): Promise<void> {
    await $(tid('back-to-agents')).click();
    await waitShown('agents-view');
  }
  /** Selects exactly the agents named (row checkboxes). */
  async function select(...names: string[]): Promise<void> {
    const clear = $(tid('agents-clear-selection'));
    if ((await clear.isExisting()) && (await clear.isEnabled())) await clear.click();
    for (const name of names) await (await agentRow(name)).$(tid('agent-row-check')).click();
    await waitFor(
      async () => (await $(tid('agents-selected-count')).getText()).includes(`${names.length}`),
      `${names.length} selected`,
    );
  }

  it('spawns running, finished and failed agents', async function () {
    for (const name of LIVE) {
      const outcome = await spawnFixture(name, 'lines.js');
      assert.equal(outcome.status, 'Done', outcome.text);
    }
    assert.equal((await spawnFixture('finished', 'exit.js')).status, 'Done');
    assert.equal((await spawnFixture('broken', 'exit.js', { EXIT_CODE: '3' })).status, 'Done');
    await closeSpawnDialog();
    for (const name of LIVE) ids.set(name, await waitAgentStatus(name, 'running'));
    ids.set('finished', await waitAgentStatus('finished', 'completed'));
    ids.set('broken', await waitAgentStatus('broken', 'failed'));
  });

  it('Resume is off on a running agent and says why', async function () {
    await openAgent('build-1');
    const resume = $(tid('agent-resume'));
    assert.equal(await resume.isEnabled(), false);
    assert.equal(await resume.getAttribute('title'), 'Resume: the agent is not paused');
    const describedBy = (await resume.getAttribute('aria-describedby')) ?? '';
    assert.notEqual(describedBy, '', 'Resume points to its reason');
    assert.equal(await $(`[id="${describedBy}"]`).getText(), 'Resume: the agent is not paused');
    assert.equal(await $(tid('agent-pause')).isEnabled(), true);
    await shot('safe-agent-view-running-light');
  });

  it('Kill asks first naming the agent; Escape cancels and the agent keeps running', async function () {
    await confirmShots('safe-confirm-kill', () => $(tid('agent-kill')).click());
    assert.equal(await $(tid('confirm-question')).getText(), 'Kill agent build-1?');
    assert.match(await $(tid('confirm-effect')).getText(), /SIGKILL/);
    assert.equal(await activeTestId(), 'confirm-cancel', 'Cancel has the focus');
    assert.equal(await $(tid('confirm-dialog')).getAttribute('aria-modal'), 'true');

    await browser.keys('Escape');
    await waitShown('confirm-dialog', true);
    assert.equal(await activeTestId(), 'agent-kill', 'the focus went back to Kill');
    // Give a wrongly sent kill time to land before checking that none did.
    await browser.pause(1500);
    assert.equal(await $(tid('agent-status')).getAttribute('data-state'), 'running');
    assert.deepEqual(received(), []);
  });

  it('confirming kills it; its controls then say it has ended', async function () {
    await $(tid('agent-kill')).click();
    assert.equal(await answerConfirm('confirm'), 'Kill agent build-1?');
    await waitFor(
      async () => (await $(tid('agent-status')).getAttribute('data-state')) === 'terminated',
      'build-1 terminated',
    );
    assert.deepEqual(received(), ['kill build-1']);
    await waitFor(async () => !(await $(tid('agent-stop')).isEnabled()), 'Stop off on an ended agent');
    assert.equal(
      await $(tid('agent-controls-hint')).getText(),
      'The agent has ended (terminated); nothing to control',
    );
    await shot('safe-agent-view-ended-light');
  });

  it('the K (kill) shortcut asks too; "don\'t ask again" skips the next question', async function () {
    await backToAgents();
    await select('build-2');
    await browser.keys(['Shift', 'K']);
    await waitShown('confirm-dialog');
    assert.equal(await $(tid('confirm-question')).getText(), 'Kill agent build-2?');
    assert.deepEqual(received(), ['kill build-1'], 'nothing sent before the answer');
    await $(tid('confirm-dont-ask')).click();
    await answerConfirm('confirm');
    await waitAgentStatus('build-2', 'terminated');

    await select('build-3');
    await browser.keys(['Shift', 'K']);
    await waitAgentStatus('build-3', 'terminated');
    assert.equal(await $(tid('confirm-dialog')).isExisting(), false, 'no question the second time');
    assert.deepEqual(received(), ['kill build-1', 'kill build-2', 'kill build-3']);
  });

  it('a batch stop of three agents names the count, and stop still asks', async function () {
    await select('batch-a', 'batch-b', 'batch-c');
    await $(tid('batch-open')).click();
    await waitShown('batch-panel');
    await $(tid('batch-command')).selectByAttribute('value', 'stop');
    await confirmShots('safe-confirm-batch-stop', () => $(tid('batch-run')).click());
    assert.equal(await $(tid('confirm-question')).getText(), 'Stop 3 agents: batch-a, batch-b and batch-c?');
    assert.equal(await $(tid('confirm-yes')).getText(), 'Stop 3 agents');
    // Escape answers the question only; the batch panel stays open.
    await browser.keys('Escape');
    await waitShown('confirm-dialog', true);
    assert.equal(await $(tid('batch-panel')).isDisplayed(), true);
    assert.equal(suite.stack.execLog().filter((r) => r.type === 'batch_control_command').length, 0);

    await $(tid('batch-run')).click();
    await answerConfirm('confirm');
    await $(tid('batch-outcome')).waitForDisplayed({ timeout: 20_000 });
    const batches = suite.stack.execLog().filter((r) => r.type === 'batch_control_command');
    assert.equal(batches.length, 1);
    assert.deepEqual(
      [...(batches[0]?.agent_ids ?? [])].sort(),
      ['batch-a', 'batch-b', 'batch-c'].map((n) => ids.get(n)).sort(),
    );
    for (const name of ['batch-a', 'batch-b', 'batch-c']) await waitAgentStatus(name, 'terminated');
    // The agents it just ended are not announced as "will be refused" beside their results.
    assert.equal(await $(tid('batch-skipped')).isExisting(), false);
    await shot('safe-batch-results-light');
    await $(tid('batch-close')).click();
  });

  it('shows a distinct badge per state, in the table and in the help legend', async function () {
    await openAgent('held');
    await $(tid('agent-force')).click();
    await $(tid('agent-pause')).click();
    await waitFor(
      async () => (await $(tid('agent-status')).getAttribute('data-badge')) === 'paused',
      'held paused',
    );
    await backToAgents();
    const badges = new Map<string, string>();
    for (const name of ['held', 'finished', 'broken', 'build-1']) {
      const badge = (await agentRow(name)).$('.badge');
      badges.set(name, `${(await badge.getAttribute('data-badge')) ?? ''}: ${await badge.getText()}`);
    }
    assert.deepEqual(Object.fromEntries(badges), {
      held: 'paused: ‖ paused',
      finished: 'completed: ✓ completed',
      broken: 'failed: ✕ failed',
      // Killed from this console: the server's facts say an operator ended it.
      'build-1': 'terminated_by_operator: ■ terminated by operator',
    });
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(theme);
      await shot(`safe-badges-table-${theme}`);
      await $(tid('help-open')).click();
      await waitShown('badge-legend');
      await $(tid('badge-legend')).scrollIntoView();
      await shot(`safe-badges-legend-${theme}`);
      await $(tid('shortcut-help-close')).click();
    }
    await setTheme('light');
  });
});
