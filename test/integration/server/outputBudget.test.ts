import { beforeAll, describe, expect, it } from 'vitest';
import { parseDroppedLinesNotice } from '../../../shared/domain/droppedLines';
import type { AgentInfo, HealthCheckResponse, OutputStream } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { queryOutput, spawnAgent, waitForLine, waitForStatus } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import type { RawClient } from '../../helpers/rawClient';
import { healthCheck, listAgents, outputQuery } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(21100, 21199);
/** The server-wide budget: 256 KiB of output for every agent together. */
const TOTAL_BYTES = 256 * 1024;
/** `flood 0000012 xxxxxxxxxxxxxxxxxxxx`: 34 bytes a line. */
const FLOOD_LINE_BYTES = 34;
const floodLine = (i: number): string => `flood ${String(i).padStart(7, '0')} ${'x'.repeat(20)}`;

async function heldBytes(client: RawClient): Promise<{ held: number; dropped: number }> {
  const health: HealthCheckResponse = await client.request(healthCheck());
  return {
    held: Number(health.metadata?.['stat.output_bytes_held']),
    dropped: Number(health.metadata?.['stat.output_lines_dropped']),
  };
}

/** What an output query says about the agent's stored output: lines kept and dropped. */
async function kept(client: RawClient, agentId: string, stream: OutputStream = 'both') {
  const count = await client.request(outputQuery(agentId, stream, { limit: 0 }));
  expect(count.success).toBe(true);
  const first = await client.request(outputQuery(agentId, stream, { limit: 1 }));
  return {
    total: Number(count.total_lines),
    dropped: parseDroppedLinesNotice(count.error),
    notice: count.error,
    first: first.lines[0],
  };
}

/**
 * Issue 11 item 3: a global budget of stored output (`line_store.total_bytes`); exited agents'
 * oldest output goes first, then running agents' oldest lines; queries say how many earlier
 * lines were dropped; health reports the bytes held and the lines dropped.
 */
describe('agent server: the output budget (line_store.total_bytes)', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends(), line_store: { total_bytes: TOTAL_BYTES } },
  });
  let exited: AgentInfo;
  let running: Promise<AgentInfo> | undefined;

  // The exited agent whose output fills the budget: each test can run alone with -t.
  beforeAll(async () => {
    exited = await spawnAgent(h.client, fixtureAgent('flood.js', { FLOOD_LINES: '20000' }, 'exited'));
    await waitForStatus(h.client, exited.id, 'completed', 30_000);
  });

  /**
   * The running agent whose 3000 lines push out the exited agent's oldest: started by the first
   * test that needs it (its start is what the second test measures), once for the whole block.
   */
  function runningAgent(): Promise<AgentInfo> {
    running ??= (async () => {
      const agent = await spawnAgent(
        h.client,
        fixtureAgent('flood.js', { FLOOD_LINES: '3000', FLOOD_STAY: '1' }, 'running'),
      );
      await waitForLine(h.client, agent.id, 'flood-done', 30_000);
      return agent;
    })();
    return running;
  }

  it('keeps the newest output within the budget and says how many earlier lines were dropped', async () => {
    const stats = await heldBytes(h.client);
    expect(stats.held).toBeLessThanOrEqual(TOTAL_BYTES);
    expect(stats.held).toBeGreaterThan(TOTAL_BYTES - 64 * 1024);
    const both = await kept(h.client, exited.id);
    expect(both.dropped).toBeGreaterThan(0);
    expect(both.notice).toBe(`notice: ${both.dropped} earlier lines dropped (output limits)`);
    // Every line is accounted for, and the first kept line is the one after the dropped ones.
    expect(both.dropped + both.total).toBe(20_001);
    expect(both.first).toBe(floodLine(both.dropped));
    expect(stats.dropped).toBe(both.dropped);
    // The notice counts the stream asked for; a filter does not change it.
    expect((await kept(h.client, exited.id, 'stdout')).dropped).toBe(both.dropped);
    expect(await kept(h.client, exited.id, 'stderr')).toMatchObject({ total: 0, dropped: 0, notice: null });
    const filtered = await queryOutput(h.client, exited.id, 'both', { filter: 'flood-done' });
    expect(filtered.lines).toEqual(['flood-done']);
    expect(parseDroppedLinesNotice(filtered.error)).toBe(both.dropped);
  });

  it("a running agent's new output pushes out the exited agent's oldest output, not its own", async () => {
    const before = await kept(h.client, exited.id);
    const running = await runningAgent();
    expect(await kept(h.client, running.id)).toMatchObject({ total: 3001, dropped: 0, notice: null });
    const after = await kept(h.client, exited.id);
    const freed = (3000 * FLOOD_LINE_BYTES + 'flood-done'.length) / FLOOD_LINE_BYTES;
    expect(after.dropped - before.dropped).toBeGreaterThanOrEqual(Math.floor(freed) - 1);
    expect(after.first).toBe(floodLine(after.dropped));
    expect((await heldBytes(h.client)).held).toBeLessThanOrEqual(TOTAL_BYTES);
  });

  it("when exited agents hold nothing, running agents' oldest lines go", async () => {
    const running = await runningAgent();
    const newest = await spawnAgent(
      h.client,
      fixtureAgent('flood.js', { FLOOD_LINES: '20000', FLOOD_STAY: '1' }, 'newest'),
    );
    await waitForLine(h.client, newest.id, 'flood-done', 30_000);
    expect(await kept(h.client, exited.id)).toMatchObject({ total: 0, dropped: 20_001 });
    // The older running agent's output was older than any of the newest agent's.
    expect(await kept(h.client, running.id)).toMatchObject({ total: 0, dropped: 3001 });
    const last = await kept(h.client, newest.id);
    expect(last.dropped + last.total).toBe(20_001);
    expect(last.first).toBe(floodLine(last.dropped));
    const tail = await queryOutput(h.client, newest.id, 'both', { offset: last.total - 1, limit: 1 });
    expect(tail.lines).toEqual(['flood-done']);
    const stats = await heldBytes(h.client);
    expect(stats.held).toBeLessThanOrEqual(TOTAL_BYTES);
    expect(stats.dropped).toBe(20_001 + 3001 + last.dropped);
  });
});

describe('agent server: max_exited_agents', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends(), max_exited_agents: 2 },
  });

  it('keeps the newest exited agents, forgets older ones, and their output stops counting', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const agent = await spawnAgent(
        h.client,
        fixtureAgent('exit.js', { EXIT_MESSAGE: `bye ${i} ${'z'.repeat(1000)}` }, `exit-${i}`),
      );
      await waitForStatus(h.client, agent.id, 'completed', 10_000);
      ids.push(agent.id);
    }
    const listed = await h.client.request(listAgents());
    expect(listed.agents.map((a) => a.id).sort()).toEqual(ids.slice(2).sort());
    const gone = await h.client.request(outputQuery(ids[0] ?? '', 'both'));
    expect(gone.success).toBe(false);
    expect(gone.error).toMatch(/Agent not found/);
    const stats = await heldBytes(h.client);
    expect(stats.held).toBe(2 * Buffer.byteLength(`bye 0 ${'z'.repeat(1000)}`));
  });
});
