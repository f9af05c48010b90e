import { describe, expect, it } from 'vitest';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { getStatus, queryOutput, spawnAgent, waitForStatus } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { healthCheck } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';
import { sleep } from '../../helpers/wait';

const ports = new PortAllocator(23600, 23799);
const MAX_LINES = 10_000;
const MAX_BYTES = 1024 * 1024;
const FLOOD_LINES = 1_000_000;

describe('agent server: a child flooding output', () => {
  const h = useServerHarness(ports, {
    config: {
      backends: nodeBackends(),
      line_store: { max_lines: MAX_LINES, max_bytes: MAX_BYTES, max_line_bytes: 65_536 },
    },
  });

  it(`${FLOOD_LINES} lines: the line store stays within max_lines and the server keeps answering`, async () => {
    const agent = await spawnAgent(h.client, fixtureAgent('flood.js', { FLOOD_LINES: String(FLOOD_LINES) }));
    const latencies: number[] = [];
    const deadline = Date.now() + 80_000;
    for (;;) {
      const started = performance.now();
      const health = await h.client.request(healthCheck(), 3000);
      latencies.push(performance.now() - started);
      expect(health.healthy).toBe(true);
      if ((await getStatus(h.client, agent.id)) === 'completed') break;
      if (Date.now() > deadline)
        throw new Error(`flood not finished after 80 s (${latencies.length} health checks answered)`);
      await sleep(200);
    }
    // At least one health check was answered while the child was still flooding.
    expect(latencies.length).toBeGreaterThanOrEqual(2);
    const count = await queryOutput(h.client, agent.id, 'both', { limit: 0 });
    const total = Number(count.total_lines);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(MAX_LINES);
    // The newest lines are kept: the child's last two lines prove the server read all of it.
    const tail = await queryOutput(h.client, agent.id, 'both', { offset: total - 2, limit: 2 });
    expect(tail.lines).toEqual([
      `flood ${String(FLOOD_LINES - 1).padStart(7, '0')} ${'x'.repeat(20)}`,
      'flood-done',
    ]);
    console.info(
      `flood: ${latencies.length} health checks during the flood, max latency ${Math.max(...latencies).toFixed(0)} ms; store kept ${total} lines`,
    );
  }, 90_000);

  it('long lines: the store stays within max_bytes', async () => {
    const agent = await spawnAgent(
      h.client,
      fixtureAgent('flood.js', { FLOOD_LINES: '5000', FLOOD_PAD: '1000' }),
    );
    await waitForStatus(h.client, agent.id, 'completed', 30_000);
    const all = await queryOutput(h.client, agent.id, 'both', { limit: 10_000 });
    // Lines are stored without their newline: the bound counts the line bytes kept.
    const bytes = all.lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    expect(all.lines.length).toBeGreaterThan(0);
    expect(all.lines.length).toBeLessThan(5001);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(all.lines.at(-1)).toBe('flood-done');
  });
});
