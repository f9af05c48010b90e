/// <reference types="mocha" />
/**
 * Losing the embedded server, as an operator meets it (docs/ARCHITECTURE.md §4.1): the console
 * starts its own local agent server; `kill -9` of that process shows the server offline with
 * the reason within a few seconds (health checks are 5 s apart, three misses would take 15 s),
 * the state stays "offline" (never "connecting") while the console retries, and Restart brings
 * it back online. Screenshots of each state in light and dark.
 */
import assert from 'node:assert/strict';
import { $ } from '@wdio/globals';
import { EMBEDDED_PROFILE_NAME } from '../../../main/embeddedDefault';
import { e2eSuite, type E2eStack } from '../helpers/e2eStack';
import {
  openConsole,
  serverCard,
  shot,
  shotBothThemes,
  tid,
  UI_WAIT_MS,
  waitFor,
  waitServerState,
} from '../helpers/ui';

/** The embedded server's pid, from the console's "local agent server running at … (pid N)" line. */
function embeddedPid(stack: E2eStack): number {
  const match = /local agent server running at \S+ \(pid (\d+)\)/.exec(stack.app?.diagnostics() ?? '');
  if (match?.[1] === undefined)
    throw new Error(`the console did not say its local server's pid\n${stack.diagnostics()}`);
  return Number(match[1]);
}

/** The text of `id` inside the embedded server's card, trimmed ('' when absent). */
async function cardText(id: string): Promise<string> {
  const el = (await serverCard(EMBEDDED_PROFILE_NAME)).$(tid(id));
  return (await el.isExisting()) ? (await el.getText()).trim() : '';
}

describe('server loss: the embedded server is killed, the console says so, Restart brings it back', function () {
  const suite = e2eSuite(6, async (stack) => {
    // No server configured: the console starts its own local one.
    await openConsole(await stack.startApp());
  });

  it('shows the embedded server offline with the reason within a few seconds of kill -9', async () => {
    await $(tid('nav-servers')).click();
    await waitServerState(EMBEDDED_PROFILE_NAME, 'online', 30_000);
    assert.equal(await cardText('server-restart'), '', 'no Restart while it runs');
    process.kill(embeddedPid(suite.stack), 'SIGKILL');
    // Sooner than one health check (5 s): only the process's exit can have told the console.
    await waitServerState(EMBEDDED_PROFILE_NAME, 'offline', 4000);
    assert.equal(await cardText('server-state'), 'offline');
    assert.equal(await cardText('server-state-reason'), 'the embedded server exited (signal SIGKILL)');
    assert.match(await cardText('server-last-heard'), /^last heard \d\d:\d\d:\d\d \((just now|\d+ s ago)\)$/);
    assert.match(await cardText('server-state-retry'), /^retrying (in \d+ s|now…)$/);
    assert.equal(await cardText('server-restart'), 'Restart');
    await shotBothThemes('server-loss-offline');
  });

  it('stays "offline" (never "connecting") while it retries, with a live countdown', async () => {
    const states = new Set<string>();
    const retries = new Set<string>();
    const until = Date.now() + 13_000;
    while (Date.now() < until) {
      const card = await serverCard(EMBEDDED_PROFILE_NAME);
      states.add(`${await card.getAttribute('data-state')}/${await cardText('server-state')}`);
      const retry = await cardText('server-state-retry');
      retries.add(retry.startsWith('retrying in') ? 'countdown' : retry);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual([...states], ['offline/offline']);
    // Both phases were seen: waiting (a countdown) and an attempt under way.
    assert.deepEqual([...retries].sort(), ['countdown', 'retrying now…']);
    assert.equal(await cardText('server-state-reason'), 'the embedded server exited (signal SIGKILL)');

    // The agents view says its list is as of the last contact, not live.
    await (await serverCard(EMBEDDED_PROFILE_NAME)).$(tid('server-open')).click();
    await $(tid('agents-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the agents view' });
    const note = await $(tid('server-stale-note')).getText();
    assert.match(note, /^The server is offline: what is shown is as of \d\d:\d\d:\d\d, not live\./);
    assert.equal(await $(tid('server-state')).getText(), 'offline');
    await shotBothThemes('server-loss-agents-offline');
  });

  it('Restart brings it back online on the same endpoint', async () => {
    await $(tid('nav-servers')).click();
    const card = await serverCard(EMBEDDED_PROFILE_NAME);
    const endpointBefore = await card.$('.mono').getText();
    await card.$(tid('server-restart')).click();
    await waitFor(
      async () =>
        (await cardText('server-restart')) === 'Restarting…' ||
        (await card.getAttribute('data-state')) === 'online',
      'Restart to be busy or done',
    );
    if ((await cardText('server-restart')) === 'Restarting…') await shot('server-loss-restarting');
    await waitServerState(EMBEDDED_PROFILE_NAME, 'online', 30_000);
    assert.equal(await cardText('server-state'), 'online');
    assert.equal(await cardText('server-restart'), '', 'no Restart once it runs again');
    assert.equal(await cardText('server-state-reason'), '');
    assert.equal(await (await serverCard(EMBEDDED_PROFILE_NAME)).$('.mono').getText(), endpointBefore);
    await shotBothThemes('server-loss-restarted');
  });
});
