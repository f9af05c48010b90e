import { beforeAll, describe, expect, it } from 'vitest';
import { LINE_NUMBERS_CAPABILITY, pageFromCommandReply } from '../../../shared/domain/numberedOutput';
import type { AgentInfo, CommandResponse, HealthCheckResponse, JsonValue } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { spawnAgent, waitForOutput } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { controlCommand, healthCheck } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(28850, 28899);
/** 30 lines, even ones on stdout and odd ones on stderr, 25 ms apart (so they arrive in order across the pipes); the store keeps the newest 20. */
const LINES = Array.from({ length: 30 }, (_, i) => [i % 2 === 0 ? 'out' : 'err', `line ${i}`]);

describe('agent server: query_output with original line numbers', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends(), line_store: { max_lines: 20 } },
  });
  let agent: AgentInfo;

  async function numbered(payload: JsonValue, requestId?: string) {
    const reply: CommandResponse = await h.client.request(
      controlCommand(agent.id, 'query_output', payload, requestId),
    );
    expect(reply.error ?? null, JSON.stringify(reply.error)).toBeNull();
    return reply.data as {
      lines: string[];
      line_numbers: number[];
      streams?: string[];
      dropped_lines: number;
    };
  }

  beforeAll(async () => {
    agent = await spawnAgent(
      h.client,
      fixtureAgent('lines.js', { LINES: JSON.stringify(LINES), LINE_DELAY_MS: '25' }, 'numbered'),
    );
    await waitForOutput(h.client, agent.id, (l) => l.at(-1) === 'line 29');
  });

  it('advertises the capability', async () => {
    const health: HealthCheckResponse = await h.client.request(healthCheck());
    expect(health.metadata?.capabilities?.split(',')).toContain(LINE_NUMBERS_CAPABILITY);
  });

  it('numbers filtered lines as they were first numbered, dropped lines counted in', async () => {
    const both = await numbered({ stream: 'both', filter: 'line (1[05]|2[05])$', limit: 100 });
    expect(both.dropped_lines).toBe(10);
    expect(both.lines).toEqual(['line 10', 'line 15', 'line 20', 'line 25']);
    expect(both.line_numbers).toEqual([11, 16, 21, 26]);
    expect(both.streams).toEqual(['stdout', 'stderr', 'stdout', 'stderr']);
    // stderr holds odd lines: "line 15" is its 8th, "line 25" its 13th.
    const stderr = await numbered({ stream: 'stderr', filter: '5$', limit: 100 });
    expect(stderr.lines).toEqual(['line 15', 'line 25']);
    expect(stderr.line_numbers).toEqual([8, 13]);
    expect(stderr.streams).toBeUndefined();
  });

  it('numbers an unfiltered page from the oldest line kept, and pages like an output query', async () => {
    const page = await numbered({ stream: 'both', offset: 2, limit: 3 });
    expect(page.lines).toEqual(['line 12', 'line 13', 'line 14']);
    expect(page.line_numbers).toEqual([13, 14, 15]);
    expect(page.streams).toEqual(['stdout', 'stderr', 'stdout']);
    const stdout = await numbered({ stream: 'stdout', limit: 2 });
    expect(stdout.lines).toEqual(['line 10', 'line 12']);
    expect(stdout.line_numbers).toEqual([6, 7]);
  });

  it('reads the reply as the console pages it, and is not deduplicated (it only reads)', async () => {
    const id = '6a0c2a7e-1d7e-4f57-9a44-5f3a3c1f0b01';
    const first: CommandResponse = await h.client.request(
      controlCommand(agent.id, 'query_output', { stream: 'both', filter: '29$' }, id),
    );
    const page = pageFromCommandReply(first);
    expect(page).toMatchObject({
      success: true,
      lines: ['line 29'],
      line_numbers: [30],
      streams: ['stderr'],
    });
    expect(page.error).toBe('notice: 10 earlier lines dropped (output limits)');
    // The same id with another query runs it: a read is never answered from the reply record.
    const again: CommandResponse = await h.client.request(
      controlCommand(agent.id, 'query_output', { stream: 'both', filter: '28$' }, id),
    );
    expect(pageFromCommandReply(again).lines).toEqual(['line 28']);
  });
});
