import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo, OutputQueryResponse } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { queryOutput, spawnAgent, waitForStatus } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { RawClient } from '../../helpers/rawClient';
import { healthCheck, outputQuery } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(21000, 21099);
const FLOOD_LINES = 1_000_000;
const BUDGET_MS = 1000;
const CONCURRENT = 2;
const WAITING = 2;
/** Backtracks exponentially on the x's of every flood line: runs to its budget. */
const CATASTROPHIC = '(x+x+)+y';
const floodLine = (i: number): string => `flood ${String(i).padStart(7, '0')} ${'x'.repeat(20)}`;

/**
 * Issue 11 item 2: regex output queries run in worker threads under a budget, at most
 * `max_concurrent_queries` at once, `max_waiting_queries` more waiting, the rest refused, while
 * the server goes on answering. How fast health checks are answered meanwhile is shown by
 * `npm run bench -- server` (server-heavy-query), not asserted here.
 */
describe('agent server: heavy regex output queries over 1,000,000 lines', () => {
  const h = useServerHarness(ports, {
    config: {
      backends: nodeBackends(),
      line_store: { max_lines: 2 * FLOOD_LINES, max_bytes: 256 * 1024 * 1024 },
      query_budget_ms: BUDGET_MS,
      max_concurrent_queries: CONCURRENT,
      max_waiting_queries: WAITING,
    },
  });
  let agent: AgentInfo;
  let health: RawClient | null = null;
  afterAll(async () => {
    await health?.close();
  });

  // The flooded agent every test queries: each test can run alone with -t.
  beforeAll(async () => {
    agent = await spawnAgent(h.client, fixtureAgent('flood.js', { FLOOD_LINES: String(FLOOD_LINES) }));
    await waitForStatus(h.client, agent.id, 'completed', 90_000);
  }, 100_000);

  it('stores a 1,000,000-line output whole', async () => {
    const count = await queryOutput(h.client, agent.id, 'both', { limit: 0 });
    expect(count.total_lines).toBe(FLOOD_LINES + 1);
  });

  it('pages without a filter anywhere in the store, oldest first', async () => {
    const tail = await queryOutput(h.client, agent.id, 'stdout', { offset: FLOOD_LINES - 2, limit: 10 });
    expect(tail.lines).toEqual([floodLine(FLOOD_LINES - 2), floodLine(FLOOD_LINES - 1), 'flood-done']);
    expect(tail.total_lines).toBe(FLOOD_LINES + 1);
    expect(tail.has_more).toBe(false);
    const mid = await queryOutput(h.client, agent.id, 'both', { offset: 500_000, limit: 2 });
    expect(mid.lines).toEqual([floodLine(500_000), floodLine(500_001)]);
    expect(mid.has_more).toBe(true);
    const stderr = await queryOutput(h.client, agent.id, 'stderr', { limit: 5 });
    expect(stderr).toMatchObject({ lines: [], total_lines: 0, has_more: false });
  });

  it('a regex query over the whole store finds every match, counts them and pages by offset', async () => {
    const filter = '^flood 09999\\d\\d x+$';
    const first = await queryOutput(h.client, agent.id, 'both', { filter, limit: 5 });
    expect(first.total_lines).toBe(100);
    expect(first.lines).toEqual([0, 1, 2, 3, 4].map((k) => floodLine(999_900 + k)));
    expect(first.has_more).toBe(true);
    const last = await queryOutput(h.client, agent.id, 'stdout', { filter, offset: 95, limit: 10 });
    expect(last.lines).toEqual([95, 96, 97, 98, 99].map((k) => floodLine(999_900 + k)));
    expect(last.has_more).toBe(false);
    const other = await queryOutput(h.client, agent.id, 'stderr', { filter, limit: 5 });
    expect(other.total_lines).toBe(0);
  });

  it(`${CONCURRENT + WAITING + 1} catastrophic queries at once: ${CONCURRENT + WAITING} stop at the budget, one is refused; health checks go on`, async () => {
    health = RawClient.connect(h.server.bind, h.server.curve);
    const before = await health.request(healthCheck());
    const requests = Array.from({ length: CONCURRENT + WAITING + 1 }, () =>
      outputQuery(agent.id, 'both', { filter: CATASTROPHIC, limit: 10 }),
    );
    const replies: (OutputQueryResponse | null)[] = requests.map(() => null);
    let firstAnswer = -1;
    let healthChecks = 0;
    const pending = Promise.all(
      requests.map((req, i) =>
        h.client.request(req, 30_000).then((reply) => {
          replies[i] = reply;
          // The refusal comes at once, maybe before any health reply; the scans end at their budget.
          const refusal = reply.error?.startsWith('server busy') === true;
          if (firstAnswer === -1 && !refusal) firstAnswer = healthChecks;
        }),
      ),
    );
    const state = { done: false };
    void pending.finally(() => {
      state.done = true;
    });
    while (!state.done) {
      const reply = await health.request(healthCheck(), 10_000);
      expect(reply.healthy).toBe(true);
      healthChecks++;
    }
    await pending;
    // Some health checks were answered before any scan ended: the scans did not hold the event loop.
    expect(firstAnswer).toBeGreaterThan(0);
    const outcomes = replies.map((r) => (r?.success === false ? r.error : 'success'));
    const overBudget = outcomes.filter((e) => /time budget of 1000 ms \(query_budget_ms\)/.test(e ?? ''));
    const refused = outcomes.filter((e) => /^server busy: .*max_waiting_queries/.test(e ?? ''));
    expect(overBudget).toHaveLength(CONCURRENT + WAITING);
    expect(refused).toHaveLength(1);
    // The queries were sent in order over one socket: the last one found the line full.
    expect(replies.at(-1)?.error).toMatch(/^server busy/);
    for (const r of replies) expect(r).toMatchObject({ lines: [], total_lines: null, has_more: false });
    const after = await health.request(healthCheck());
    const stat = (reply: typeof after, name: string): number => Number(reply.metadata?.[`stat.${name}`]);
    expect(stat(after, 'regex_timeouts') - stat(before, 'regex_timeouts')).toBe(CONCURRENT + WAITING);
    expect(stat(after, 'queries_refused') - stat(before, 'queries_refused')).toBe(1);
  }, 60_000);

  it('after the budget stops, the replaced workers answer the next query', async () => {
    const reply = await queryOutput(h.client, agent.id, 'both', { filter: '^flood-done$', limit: 1 });
    expect(reply).toMatchObject({ lines: ['flood-done'], total_lines: 1, has_more: false });
  });
});
