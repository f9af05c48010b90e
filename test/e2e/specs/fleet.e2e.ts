/// <reference types="mocha" />
/**
 * Agents across servers: two real agent servers, two agents on each. The all-servers table
 * lists all four with their server; a pause of all four goes out as one batch per server and
 * reports each agent with its server's name; the merged log of one agent per server shows both
 * agents' live lines under their names. Screenshots of both views in both themes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { $, $$ } from '@wdio/globals';
import { readFileSync, existsSync } from 'node:fs';
import { nodeBackends } from '../../helpers/agents';
import { isPortFree } from '../../helpers/ports';
import { startServerProcess, type ServerProcess } from '../../helpers/serverProcess';
import { e2eSuite, SERVER_PORTS, type E2eStack, type ExecLogRecord } from '../helpers/e2eStack';
import {
  addServer,
  closeSpawnDialog,
  openConsole,
  openServer,
  setTheme,
  shot,
  shotBothThemes,
  spawnFixture,
  tid,
  UI_WAIT_MS,
  waitAgentStatus,
  waitFor,
} from '../helpers/ui';

const SLOT = 9;
const NORTH = 'north farm';
const SOUTH = 'south farm';
/** Agents that keep writing a line every few seconds (for the merged log), and quiet ones. */
const TALKERS = { [NORTH]: 'alpha', [SOUTH]: 'charlie' } as const;
const QUIET = { [NORTH]: 'bravo', [SOUTH]: 'delta' } as const;
/** 40 lines, 3 s apart: the talkers are still writing when the merged log opens. */
const TALK = {
  LINES: JSON.stringify(Array.from({ length: 40 }, (_, i) => ['out', `tick ${i + 1}`])),
  LINE_DELAY_MS: '3000',
};

let south: ServerProcess | null = null;

function execLog(path: string): ExecLogRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExecLogRecord);
}

/** A second agent server beside the stack's, on a free port pair of the same slot. */
async function startSouth(stack: E2eStack): Promise<ServerProcess> {
  const base = SERVER_PORTS.first + SLOT * 100;
  for (let p = stack.serverPort + 2; p < base + 49; p += 2) {
    if ((await isPortFree(p)) && (await isPortFree(p + 1))) {
      return startServerProcess({
        port: p,
        config: { backends: nodeBackends() },
        stateDir: join(stack.dir.path, 'south-state'),
        execLog: join(stack.dir.path, 'south-exec.log'),
        allowClient: stack.consolePublicKey(),
        args: ['--heartbeat-ms', '1000'],
      });
    }
  }
  throw new Error(`no free port pair for the second server in slot ${SLOT}`);
}

/** The fleet table's row of agent `name` on server `server`, once rendered. */
async function fleetRow(server: string, name: string): Promise<WebdriverIO.Element> {
  const found: { row: WebdriverIO.Element | null } = { row: null };
  await waitFor(async () => {
    for (const row of await $$(`${tid('fleet-view')} ${tid('agent-row')}`).getElements()) {
      const label = (await row.$(tid('agent-open')).getText()).trim();
      const where = (await row.$(tid('agent-row-server')).getText()).trim();
      if (label === name && where.startsWith(server)) {
        found.row = row;
        return true;
      }
    }
    return false;
  }, `the fleet row of ${name} on ${server}`);
  if (found.row === null) throw new Error(`no fleet row of ${name}`);
  return found.row;
}

describe('fleet: agents across servers, batch per server, merged log', function () {
  const suite = e2eSuite(SLOT, async (stack) => {
    await stack.startServer();
    south = await startSouth(stack);
    await openConsole(await stack.startApp());
    await addServer(NORTH, stack.endpoint, 1000, stack.serverKey);
    const southKey = south.ready?.public_key ?? null;
    if (southKey === null) throw new Error('the second server printed no public key');
    await addServer(SOUTH, south.bind, 1000, southKey);
  });
  after(async function () {
    await south?.stop('SIGTERM', 10_000);
  });

  it('lists the agents of both servers in one table with a Server column', async function () {
    for (const server of [NORTH, SOUTH] as const) {
      await openServer(server);
      const talk = await spawnFixture(TALKERS[server], 'lines.js', TALK);
      assert.equal(talk.status, 'Done', talk.text);
      const quiet = await spawnFixture(QUIET[server], 'report.js');
      assert.equal(quiet.status, 'Done', quiet.text);
      await closeSpawnDialog();
      await waitAgentStatus(QUIET[server], 'running');
    }
    await $(tid('nav-fleet')).click();
    await $(tid('fleet-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the all-servers view' });
    await waitFor(
      async () => /^4 agents on \d online servers$/.test(await $(tid('fleet-count')).getText()),
      'four agents in the all-servers table',
    );
    for (const server of [NORTH, SOUTH] as const) {
      for (const name of [TALKERS[server], QUIET[server]]) {
        const row = await fleetRow(server, name);
        assert.equal(await row.getAttribute('data-live'), 'true', `${name} is live`);
      }
    }
    await shotBothThemes('fleet-table');
  });

  it('pauses all four as one batch per server and shows each result with its server', async function () {
    await $(`${tid('fleet-view')} ${tid('agents-select-all')}`).click();
    await waitFor(
      async () => (await $(tid('fleet-selected-count')).getText()) === '4 agents selected',
      'four agents selected',
    );
    await $(tid('fleet-pause')).click();
    await waitFor(
      async () => (await $$(`${tid('fleet-batch')} ${tid('batch-result')}`).length) === 4,
      'four batch results',
    );
    await waitFor(async () => {
      const states = await $$(`${tid('fleet-batch')} ${tid('batch-result')}`).map((c) =>
        c.getAttribute('data-state'),
      );
      return states.every((s) => s === 'success');
    }, 'every result a success');
    const names = (
      await $$(`${tid('fleet-batch')} ${tid('batch-result')} .name`).map((n) => n.getText())
    ).sort();
    assert.deepEqual(
      names,
      [
        `${NORTH} › ${TALKERS[NORTH]}`,
        `${NORTH} › ${QUIET[NORTH]}`,
        `${SOUTH} › ${TALKERS[SOUTH]}`,
        `${SOUTH} › ${QUIET[SOUTH]}`,
      ].sort(),
    );
    assert.equal(await $$(tid('fleet-batch-part')).length, 2, 'one part per server');
    // One batch_control_command on each server, naming that server's two agents only.
    for (const path of [suite.stack.execLogPath, join(suite.stack.dir.path, 'south-exec.log')]) {
      const batches = execLog(path).filter((r) => r.type === 'batch_control_command');
      assert.equal(batches.length, 1, `one batch in ${path}`);
      assert.equal((batches[0]?.agent_ids ?? []).length, 2);
      assert.equal(batches[0]?.command_type, 'pause');
    }
    await shot('fleet-batch-dark');
    await setTheme('light');
    await shot('fleet-batch-light');
    await setTheme('dark');
    // Resume, so the talkers write on. It is offered once the table shows them paused.
    await $(tid('fleet-resume')).waitForEnabled({ timeout: UI_WAIT_MS, timeoutMsg: 'Resume offered' });
    await $(tid('fleet-resume')).click();
    await waitFor(async () => {
      const states = await $$(`${tid('fleet-batch')} ${tid('batch-result')}`).map((c) =>
        c.getAttribute('data-state'),
      );
      return states.length === 4 && states.every((s) => s === 'success');
    }, 'the resume results');
    await $(tid('fleet-batch-close')).click();
  });

  it('merges the live output of an agent on each server, each line under its name', async function () {
    await $(tid('fleet-clear-selection')).click();
    for (const server of [NORTH, SOUTH] as const) {
      await (await fleetRow(server, TALKERS[server])).$(tid('agent-row-check')).click();
    }
    const open = $(tid('fleet-merged-log'));
    await waitFor(async () => (await open.getText()) === 'Merged log of 2 agents', 'two agents selected');
    await open.click();
    await $(tid('merged-log-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the merged log' });
    // The talkers write a line every 3 s: wait until a line of each has arrived.
    await waitFor(
      async () => {
        const prefixes = await $$(`${tid('merged-log-line')} .prefix`).map((p) => p.getText());
        return prefixes.includes(TALKERS[NORTH]) && prefixes.includes(TALKERS[SOUTH]);
      },
      'a line of each agent in the merged log',
      20_000,
    );
    const legend = await $$(tid('merged-log-agent')).map((c) => c.getText());
    assert.deepEqual(legend, [`${TALKERS[NORTH]} · ${NORTH}`, `${TALKERS[SOUTH]} · ${SOUTH}`]);
    await shot('merged-log-dark');
    await setTheme('light');
    await shot('merged-log-light');
    await setTheme('dark');
  });

  it('counts lines that arrive while the merged log is not following, in a pill that follows again', async function () {
    const follow = $(tid('merged-log-follow'));
    if (await follow.isSelected()) await follow.click();
    // The talkers write every 3 s: the next line of either shows up in the pill.
    await $(tid('merged-log-new-lines')).waitForDisplayed({
      timeout: 15_000,
      timeoutMsg: 'the new-lines pill',
    });
    assert.match(await $(tid('merged-log-new-lines')).getText(), /^[\d,]+ new lines? ↓$/);
    await shotBothThemes('merged-log-pill');
    await $(tid('merged-log-new-lines')).click();
    await waitFor(async () => await follow.isSelected(), 'follow back on');
    assert.equal(await $(tid('merged-log-new-lines')).isExisting(), false);
  });
});
