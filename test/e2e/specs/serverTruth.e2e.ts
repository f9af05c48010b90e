/// <reference types="mocha" />
/**
 * The server never misreports: a pause shows "paused" only when the agent's output has really
 * stopped, and after the agent server is killed and restarted on its state dir the earlier
 * agents and their output are still there, the one that was running saying it was lost.
 */
import assert from 'node:assert/strict';
import { $, browser } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import * as ui from '../helpers/ui';

async function openAgent(name: string): Promise<void> {
  if (await $(ui.tid('back-to-agents')).isExisting()) await $(ui.tid('back-to-agents')).click();
  await (await ui.agentRow(name)).$(ui.tid('agent-open')).click();
  await $(ui.tid('agent-facts')).waitForDisplayed({
    timeout: ui.UI_WAIT_MS,
    timeoutMsg: `the agent view of ${name}`,
  });
}

/** The stored line count the output viewer shows ("2,194 line(s)"), whatever is scrolled into view. */
async function lineCount(): Promise<number> {
  const text = await $(ui.tid('output-count')).getText();
  return Number(/([\d,]+) line/.exec(text)?.[1]?.replace(/,/g, '') ?? 'NaN');
}

describe('server truth: pause and restart', function () {
  const suite = e2eSuite(5, async (stack) => {
    await openConsoleOnServer(stack, 'truth farm');
  });

  it('Pause on an agent without cooperative pause shows paused, and its output stops', async function () {
    this.timeout(300_000); // a loaded machine (helpers share two cores) makes each step slow
    // The ticker prints a line every 50 ms; its backend (node, like shell) pauses by SIGSTOP.
    assert.equal((await ui.spawnFixture('ticker', 'coop-agent.js')).status, 'Done');
    const lines = JSON.stringify([
      ['out', 'first line'],
      ['err', 'second line'],
      ['out', 'third line'],
    ]);
    assert.equal(
      (await ui.spawnFixture('finisher', 'lines.js', { LINES: lines, LINE_DELAY_MS: '150', EXIT_AFTER: '1' }))
        .status,
      'Done',
    );
    await ui.closeSpawnDialog();
    await ui.waitAgentStatus('finisher', 'completed', 20_000);

    await openAgent('ticker');
    await ui.waitFor(async () => (await lineCount()) > 3, 'ticks in the output');
    await ui.waitFor(async () => /^\d+$/.test(await $(ui.tid('agent-pid')).getText()), 'the PID');
    await $(ui.tid('agent-pause')).click();
    await ui.waitFor(
      async () => (await $(ui.tid('agent-status')).getAttribute('data-state')) === 'paused',
      'the status badge to say paused',
    );
    // Lines already in the pipe may still land: take the count once it holds still.
    let atPause = -1;
    await ui.waitFor(async () => {
      const before = await lineCount();
      await browser.pause(600); // longer than the 250 ms between output notices
      atPause = await lineCount();
      return atPause === before;
    }, 'the line count to settle after the pause');
    await browser.pause(1500); // 30 ticks' worth
    assert.equal(await lineCount(), atPause, 'no line arrives while the agent shows paused');
    await ui.setTheme('light');
    await ui.shot('truth-agent-paused-light');
    await ui.setTheme('dark');
    await ui.shot('truth-agent-paused-dark');
    await $(ui.tid('agent-resume')).click();
    await ui.waitFor(async () => (await lineCount()) > atPause, 'output flowing again after Resume');
  });

  it('after the server is killed and restarted, earlier agents and their output are shown; the running one was lost', async function () {
    this.timeout(300_000);
    const { stack } = suite;
    await stack.server?.kill();
    await stack.startServer();
    await $(ui.tid('back-to-agents')).click();
    await ui.waitAgentStatus('ticker', 'failed', 30_000);
    await ui.waitAgentStatus('finisher', 'completed');

    await openAgent('ticker');
    await ui.waitFor(
      async () => (await $(ui.tid('agent-ending')).getText()) === 'lost when the server stopped',
      'the lost agent to say "lost when the server stopped"',
    );
    await ui.waitFor(async () => (await lineCount()) > 3, 'the lost agent keeps its output');
    await ui.shot('truth-agent-lost-dark');
    await ui.setTheme('light');
    await ui.shot('truth-agent-lost-light');

    await openAgent('finisher');
    await ui.waitFor(
      async () => (await ui.outputLines()).join('|') === 'first line|second line|third line',
      'the finished agent output, both streams in order',
    );
    assert.equal(await $(ui.tid('agent-ending')).getText(), 'completed (exit code 0)');
    await ui.shot('truth-agent-completed-light');
    await ui.setTheme('dark');
  });
});
