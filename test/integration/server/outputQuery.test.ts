import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { queryOutput, spawnAgent, waitForOutput } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { healthCheck, outputQuery } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(22600, 22799);
const PAGED = Array.from({ length: 150 }, (_, i) => `line ${String(i).padStart(3, '0')}`);

describe('agent server: output_query_request', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends() },
  });
  let mixed: AgentInfo;
  let paged: AgentInfo;

  beforeAll(async () => {
    mixed = await spawnAgent(h.client, fixtureAgent('lines.js', {}, 'mixed'));
    paged = await spawnAgent(
      h.client,
      fixtureAgent(
        'lines.js',
        { LINES: JSON.stringify(PAGED.map((l) => ['out', l])), LINE_DELAY_MS: '0' },
        'paged',
      ),
    );
    await waitForOutput(h.client, mixed.id, (l) => l.length === 5);
    await waitForOutput(h.client, paged.id, (l) => l.length === PAGED.length, { stream: 'stdout' });
  });

  it('stdout, stderr and both (merged in arrival order), lines without their newline', async () => {
    const stdout = await queryOutput(h.client, mixed.id, 'stdout');
    expect(stdout.agent_id).toBe(mixed.id);
    expect(stdout.lines).toEqual(['out one', 'out three', 'out five']);
    expect(stdout.total_lines).toBe(3);
    expect(stdout.has_more).toBe(false);
    const stderr = await queryOutput(h.client, mixed.id, 'stderr');
    expect(stderr.lines).toEqual(['err two', 'err four']);
    const both = await queryOutput(h.client, mixed.id, 'both');
    expect(both.lines).toEqual(['out one', 'err two', 'out three', 'err four', 'out five']);
    expect(both.total_lines).toBe(5);
  });

  it('is non-destructive: the same query twice gives the same answer', async () => {
    const first = await queryOutput(h.client, mixed.id, 'both');
    const second = await queryOutput(h.client, mixed.id, 'both');
    expect({ ...second, request_id: '' }).toEqual({ ...first, request_id: '' });
    expect(second.lines).toHaveLength(5);
  });

  it('filter is an ECMAScript regex tested per line; total_lines counts matches', async () => {
    const reply = await queryOutput(h.client, mixed.id, 'both', { filter: '^(out|err) (one|four)$' });
    expect(reply.lines).toEqual(['out one', 'err four']);
    expect(reply.total_lines).toBe(2);
    const none = await queryOutput(h.client, mixed.id, 'both', { filter: 'nothing-matches-this' });
    expect(none.lines).toEqual([]);
    expect(none.total_lines).toBe(0);
    expect(none.has_more).toBe(false);
    const ecma = await queryOutput(h.client, mixed.id, 'stdout', { filter: '(?<word>t\\w+e)\\b' });
    expect(ecma.lines).toEqual(['out three']);
  });

  it('default limit is 100 and has_more tells there is more', async () => {
    const reply = await queryOutput(h.client, paged.id, 'stdout');
    expect(reply.lines).toEqual(PAGED.slice(0, 100));
    expect(reply.total_lines).toBe(150);
    expect(reply.has_more).toBe(true);
  });

  it('offset and limit page through the lines, oldest first', async () => {
    const page = await queryOutput(h.client, paged.id, 'stdout', { offset: 20, limit: 10 });
    expect(page.lines).toEqual(PAGED.slice(20, 30));
    expect(page.total_lines).toBe(150);
    expect(page.has_more).toBe(true);
    const last = await queryOutput(h.client, paged.id, 'stdout', { offset: 140, limit: 10 });
    expect(last.lines).toEqual(PAGED.slice(140));
    expect(last.has_more).toBe(false);
    const tail = await queryOutput(h.client, paged.id, 'stdout', { offset: 145, limit: 100 });
    expect(tail.lines).toEqual(PAGED.slice(145));
    expect(tail.has_more).toBe(false);
    const beyond = await queryOutput(h.client, paged.id, 'stdout', { offset: 500, limit: 10 });
    expect(beyond.lines).toEqual([]);
    expect(beyond.total_lines).toBe(150);
    expect(beyond.has_more).toBe(false);
  });

  it('offset counts matching lines when a filter is given', async () => {
    const odd = PAGED.filter((l) => /[13579]$/.test(l));
    const reply = await queryOutput(h.client, paged.id, 'stdout', {
      filter: '[13579]$',
      offset: 70,
      limit: 10,
    });
    expect(reply.total_lines).toBe(odd.length);
    expect(reply.lines).toEqual(odd.slice(70));
    expect(reply.has_more).toBe(false);
  });

  it('limit 0 returns only the count', async () => {
    const reply = await queryOutput(h.client, paged.id, 'stdout', { limit: 0 });
    expect(reply.lines).toEqual([]);
    expect(reply.total_lines).toBe(150);
    expect(reply.has_more).toBe(true);
  });

  it('an invalid regex → success:false with an error naming the problem', async () => {
    const before = await h.client.request(healthCheck());
    const reply = await h.client.request(outputQuery(mixed.id, 'both', { filter: '(unclosed' }));
    expect(reply.success).toBe(false);
    expect(reply.lines).toEqual([]);
    expect(reply.error).toMatch(/regex|regular expression|pattern|filter/i);
    const after = await h.client.request(healthCheck());
    expect(Number(after.metadata?.['stat.bad_regex'])).toBe(Number(before.metadata?.['stat.bad_regex']) + 1);
  });

  it('a filter longer than 1 KiB is refused', async () => {
    const reply = await h.client.request(outputQuery(mixed.id, 'both', { filter: 'a'.repeat(1025) }));
    expect(reply.success).toBe(false);
    expect(reply.error).toMatch(/\S/);
  });

  it('a runaway regex (^(a+)+$ on long aaa…b lines) → success:false, and the server answers at once after', async () => {
    const evil = 'a'.repeat(64) + 'b';
    const agent = await spawnAgent(
      h.client,
      fixtureAgent('lines.js', {
        LINES: JSON.stringify([
          ['out', evil],
          ['out', evil],
          ['out', 'aaaa'],
        ]),
        LINE_DELAY_MS: '0',
      }),
    );
    await waitForOutput(h.client, agent.id, (l) => l.length === 3);
    const before = await h.client.request(healthCheck());
    const started = performance.now();
    const reply = await h.client.request(outputQuery(agent.id, 'both', { filter: '^(a+)+$' }), 30_000);
    const queryMs = performance.now() - started;
    expect(reply.success).toBe(false);
    expect(reply.error).toMatch(/time|budget|too long|expensive/i);
    expect(queryMs).toBeLessThan(10_000);
    const healthStarted = performance.now();
    const health = await h.client.request(healthCheck(), 5000);
    expect(performance.now() - healthStarted).toBeLessThan(1000);
    expect(health.healthy).toBe(true);
    expect(Number(health.metadata?.['stat.regex_timeouts'])).toBe(
      Number(before.metadata?.['stat.regex_timeouts']) + 1,
    );
  });
});
