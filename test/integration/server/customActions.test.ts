import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo, JsonValue } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { spawnAgent, waitForOutput } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { customAction, healthCheck } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(22200, 22399);
const BUILT_INS = ['echo', 'ping', 'get_env', 'list_actions', 'agent_details', 'stats'];

/** Action names from a `list_actions` result: an array of `{name, …}` or an object keyed by name. */
function actionNames(data: JsonValue | undefined): string[] {
  if (Array.isArray(data)) {
    return data.map((entry) =>
      typeof entry === 'object' && entry !== null && !Array.isArray(entry) && typeof entry.name === 'string'
        ? entry.name
        : '',
    );
  }
  if (typeof data === 'object' && data !== null && !(data instanceof Uint8Array)) return Object.keys(data);
  return [];
}

describe('agent server: custom actions', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends(), action_timeout_secs: 2 },
  });
  let agent: AgentInfo;

  beforeAll(async () => {
    agent = await spawnAgent(h.client, fixtureAgent('action-agent.js', { T_GET_ENV: 'visible-value' }));
  });

  it('echo returns its params unchanged (nested JSON, unicode, floats, negatives)', async () => {
    const params = {
      text: 'grüße ✓',
      n: -42,
      f: 1.5,
      list: [1, 'two', null, true],
      nested: { deep: { x: [] } },
    };
    const reply = await h.client.request(customAction(agent.id, 'echo', params));
    expect(reply.type).toBe('command_response');
    expect(reply.agent_id).toBe(agent.id);
    expect(reply.success).toBe(true);
    expect(reply.data).toEqual(params);
  });

  it('ping succeeds', async () => {
    const reply = await h.client.request(customAction(agent.id, 'ping'));
    expect(reply.error ?? null).toBeNull();
    expect(reply.success).toBe(true);
  });

  it("get_env returns the names of the agent's variables, not their values (expose_env_values is off)", async () => {
    const reply = await h.client.request(customAction(agent.id, 'get_env'));
    expect(reply.success).toBe(true);
    expect(reply.data).toMatchObject({
      names: expect.arrayContaining(['T_GET_ENV', 'DESCARTES_AGENT_ID', 'PATH']) as unknown,
      values: null,
    });
    expect(JSON.stringify(reply.data)).not.toContain('visible-value');
  });

  it('list_actions names every built-in with a description and a params schema', async () => {
    const reply = await h.client.request(customAction(agent.id, 'list_actions'));
    expect(reply.success).toBe(true);
    expect(actionNames(reply.data)).toEqual(expect.arrayContaining(BUILT_INS));
    const text = JSON.stringify(reply.data);
    expect(text).toMatch(/description/);
    expect(text).toMatch(/param/);
  });

  it('stats returns the server counters as JSON numbers', async () => {
    const reply = await h.client.request(customAction(agent.id, 'stats'));
    expect(reply.success).toBe(true);
    const data = reply.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof Uint8Array) {
      throw new Error(`stats data is not an object: ${JSON.stringify(data)}`);
    }
    for (const counter of [
      'decode_errors',
      'unknown_tags',
      'unknown_agent',
      'bad_regex',
      'requests',
      'replays',
      'spawn_failures',
    ]) {
      const key = Object.keys(data).find((k) => k === counter || k === `stat.${counter}`);
      expect(key, counter).toBeDefined();
      expect(typeof data[key ?? ''], counter).toBe('number');
    }
    const requests = data.requests ?? data['stat.requests'];
    expect(requests).toBeGreaterThanOrEqual(6);
  });

  it('another action is forwarded to the agent as one stdin line carrying the request_id, and its result returned', async () => {
    const request = customAction(agent.id, 'add', { a: 2, b: 3 });
    const reply = await h.client.request(request);
    expect(reply.error ?? null).toBeNull();
    expect(reply.success).toBe(true);
    expect(reply.data).toBe(5);
    const stderr = await waitForOutput(
      h.client,
      agent.id,
      (l) => l.some((x) => x.includes(request.request_id)),
      {
        stream: 'stderr',
      },
    );
    expect(stderr.filter((x) => x === `action-received ${request.request_id} add`)).toHaveLength(1);
  });

  it('an action the agent answers with ok:false → success:false with its error', async () => {
    const failing = await h.client.request(customAction(agent.id, 'fail'));
    expect(failing.success).toBe(false);
    expect(failing.error).toContain('deliberate failure from fixture');
    const unknown = await h.client.request(customAction(agent.id, 'zap'));
    expect(unknown.success).toBe(false);
    expect(unknown.error).toContain('unknown action: zap');
  });

  it.each([
    {
      title: 'an unanswered action times out after timeout_secs with "timed out" in the error',
      opts: { timeoutSecs: 1 },
      waitMs: 10_000,
      minMs: 900,
      maxMs: 5000,
    },
    {
      title: 'without timeout_secs the config action_timeout_secs (2 s here) applies',
      opts: {},
      waitMs: 15_000,
      minMs: 1900,
      maxMs: 8000,
    },
  ])('$title', async ({ opts, waitMs, minMs, maxMs }) => {
    const started = performance.now();
    const reply = await h.client.request(customAction(agent.id, 'never', null, opts), waitMs);
    const elapsed = performance.now() - started;
    expect(reply.success).toBe(false);
    expect(reply.error).toMatch(/timed out/i);
    expect(elapsed).toBeGreaterThanOrEqual(minMs);
    expect(elapsed).toBeLessThan(maxMs);
  });

  it('a slow action (~3 s) does not delay a health check sent after it', async () => {
    const slow = customAction(agent.id, 'slow', { ms: 3000 }, { timeoutSecs: 20 });
    const health = healthCheck();
    const slowReply = h.client.request(slow, 20_000);
    const started = performance.now();
    const healthReply = await h.client.request(health);
    const healthMs = performance.now() - started;
    expect(healthReply.healthy).toBe(true);
    expect(healthMs).toBeLessThan(1500);
    const done = await slowReply;
    expect(done.success).toBe(true);
    expect(done.data).toBe('slow-done');
    const arrivals = h.client.arrivals;
    expect(arrivals.indexOf(health.request_id)).toBeLessThan(arrivals.indexOf(slow.request_id));
  });

  it('concurrent forwarded actions on one agent are matched to their requests by id', async () => {
    const slow = customAction(agent.id, 'slow', { ms: 800 }, { timeoutSecs: 10 });
    const quick = customAction(agent.id, 'add', { a: 40, b: 2 });
    const [slowReply, quickReply] = await Promise.all([h.client.request(slow), h.client.request(quick)]);
    expect(slowReply.data).toBe('slow-done');
    expect(quickReply.data).toBe(42);
    expect(h.client.arrivals.indexOf(quick.request_id)).toBeLessThan(
      h.client.arrivals.indexOf(slow.request_id),
    );
  });
});
