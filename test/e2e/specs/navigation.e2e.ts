/// <reference types="mocha" />
/**
 * Navigation as an operator uses it: a link to an agent opens it, a reload keeps the view, Back
 * and Forward move between the agents and agent views without leaving the console, the command
 * palette jumps to an agent and runs an action, and j/k + Enter open a row. Real console
 * process, real agent server, real Chromium.
 */
import assert from 'node:assert/strict';
import { $, $$, browser } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import { setTheme, shot, spawnRunning, tid, UI_WAIT_MS, waitFor } from '../helpers/ui';

const SERVER = 'nav farm';
/** A well-formed agent id the server never issued. */
const UNKNOWN_AGENT = '0f8e4c2a-3b1d-4e5f-9a6b-7c8d9e0f1a2b';

describe('navigation: links, reload, Back/Forward, command palette, j/k', function () {
  const ids = { server: '', alpha: '', beta: '' };
  const suite = e2eSuite(7, async (stack) => {
    await openConsoleOnServer(stack, SERVER);
    const spawned = await spawnRunning(['alpha', 'beta']);
    ids.alpha = spawned.get('alpha') ?? '';
    ids.beta = spawned.get('beta') ?? '';
    ids.server = ((await $(tid('agent-open')).getAttribute('href')) ?? '').split('/')[2] ?? '';
  });

  /** The console's URL with `hash` (`#/…`), as a link from elsewhere would be. */
  const linkTo = (hash: string): string => `${suite.stack.app?.url ?? ''}${hash}`;
  const agentShown = async (id: string): Promise<void> => {
    await waitFor(
      async () =>
        (await $(tid('agent-view')).isExisting()) &&
        (await $(tid('agent-view')).getAttribute('data-agent-id')) === id,
      `the agent view of ${id}`,
    );
  };
  const agentsShown = async (what: string): Promise<void> => {
    await $(tid('agents-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: what });
  };
  const origin = async (): Promise<string> => new URL(await browser.getUrl()).origin;

  it('agent names link to the agent view, and such a link opens it', async function () {
    const href = await $(
      `${tid('agent-row')}[data-agent-id="${ids.beta}"] ${tid('agent-open')}`,
    ).getAttribute('href');
    assert.equal(href, `#/servers/${ids.server}/agents/${ids.beta}`);
    await browser.url(linkTo(href));
    await agentShown(ids.beta);
    assert.equal(await $('h2').getText(), 'beta');
  });

  it('a reload keeps the agent view (the server list loads first)', async function () {
    await browser.refresh();
    await agentShown(ids.beta);
    assert.match(await browser.getUrl(), new RegExp(`#/servers/${ids.server}/agents/${ids.beta}$`));
  });

  it('Back and Forward move between the agents and agent views and stay in the console', async function () {
    const consoleOrigin = await origin();
    await $(tid('back-to-agents')).click();
    await agentsShown('the agents view');
    await $(`${tid('agent-row')}[data-agent-id="${ids.alpha}"] ${tid('agent-open')}`).click();
    await agentShown(ids.alpha);
    await browser.back();
    await agentsShown('agents view after Back');
    await browser.back();
    await agentShown(ids.beta);
    await browser.forward();
    await agentsShown('agents view after Forward');
    await browser.forward();
    await agentShown(ids.alpha);
    assert.equal(await origin(), consoleOrigin);
  });

  it('the palette (Ctrl+K) jumps to an agent by name and runs an action on it', async function () {
    await $(tid('nav-servers')).click();
    await $(tid('servers-view')).waitForDisplayed({ timeout: UI_WAIT_MS });
    await $(tid('nav-agents')).click();
    await $(tid('agents-view')).waitForDisplayed({ timeout: UI_WAIT_MS });
    for (const theme of ['light', 'dark'] as const) {
      // The palette is modal: the theme is switched while it is closed.
      if (await $(tid('command-palette')).isExisting()) await browser.keys(['Escape']);
      await $(tid('command-palette')).waitForExist({ reverse: true, timeout: UI_WAIT_MS });
      await setTheme(theme);
      await browser.keys(['Control', 'k']);
      await $(tid('command-palette')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the palette' });
      await $(tid('palette-input')).addValue('beta');
      await waitFor(
        async () => (await $(tid('palette-option')).getText()).includes('Open agent beta'),
        'the beta entry first',
      );
      await shot(`palette-${theme}`);
    }
    await browser.keys(['Enter']);
    await agentShown(ids.beta);
    assert.equal(await $(tid('command-palette')).isExisting(), false);

    const before = suite.stack.execLog().length;
    await browser.keys(['Control', 'k']);
    await $(tid('palette-input')).waitForDisplayed({ timeout: UI_WAIT_MS });
    await $(tid('palette-input')).addValue('pause the selected');
    await browser.keys(['Enter']);
    await waitFor(
      () =>
        Promise.resolve(
          suite.stack
            .execLog()
            .slice(before)
            .some((r) => r.command_type === 'pause' && r.agent_id === ids.beta),
        ),
      'the pause of beta in the server exec log',
    );
  });

  it('j and k move the selection in the agents table, Enter opens the selected agent', async function () {
    await $(tid('back-to-agents')).click();
    await $(tid('agents-view')).waitForDisplayed({ timeout: UI_WAIT_MS });
    await $(tid('agents-clear-selection')).click();
    const idsOf = async (selector: string): Promise<string[]> => [
      ...(await $$(selector).map(async (row) => (await row.getAttribute('data-agent-id')) ?? '')),
    ];
    const order = await idsOf(tid('agent-row'));
    assert.equal(order.length, 2);
    const selected = (): Promise<string[]> => idsOf(`${tid('agent-row')}.selected`);
    await browser.keys(['j']);
    await waitFor(async () => (await selected()).join() === order[0], 'j selects the first row');
    await browser.keys(['j']);
    await waitFor(async () => (await selected()).join() === order[1], 'j selects the second row');
    await browser.keys(['k']);
    await waitFor(async () => (await selected()).join() === order[0], 'k goes back to the first row');
    await browser.keys(['Enter']);
    await agentShown(order[0] ?? '');
  });

  it('a link to an agent the server does not list says so, with a way back', async function () {
    await browser.url(linkTo(`#/servers/${ids.server}/agents/${UNKNOWN_AGENT}`));
    await $(tid('route-missing')).waitForDisplayed({
      timeout: UI_WAIT_MS,
      timeoutMsg: 'the not-found state',
    });
    assert.equal(await $(tid('route-missing-title')).getText(), 'Agent not found');
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(theme);
      await shot(`not-found-agent-${theme}`);
    }
    await $(tid('route-missing-back')).click();
    await agentsShown('back to the agents');
    await browser.url(linkTo('#/servers/no-such-server'));
    await $(tid('route-missing')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'server not found' });
    assert.equal(await $(tid('route-missing-title')).getText(), 'Server not found');
    await shot('not-found-server-dark');
  });
});
