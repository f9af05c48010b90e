import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { actionAgentPid, getStatus, spawnAgent, waitForLine, waitForOutput } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { isProcessStopped } from '../../helpers/processes';
import { batchCommand, controlCommand } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';
import { sleep, waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(22400, 22599);
const GHOST = '0b7e5c1d-2a3f-4e6b-8c9d-112233445566';

describe('agent server: batch_control_command', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends() },
  });
  let a: AgentInfo;
  let b: AgentInfo;
  let c: AgentInfo;
  const pids = new Map<string, number>();

  /** SIGSTOP takes effect when the target next runs: poll /proc instead of reading it once. */
  async function waitStopped(agentId: string, stopped: boolean): Promise<void> {
    const pid = pids.get(agentId) ?? 0;
    await waitUntil(() => (isProcessStopped(pid) === stopped ? true : undefined), {
      timeoutMs: 3000,
      what: `process ${pid} ${stopped ? 'stopped' : 'continued'}`,
    });
  }

  beforeAll(async () => {
    a = await spawnAgent(h.client, fixtureAgent('action-agent.js', {}, 'batch-a'));
    b = await spawnAgent(h.client, fixtureAgent('action-agent.js', {}, 'batch-b'));
    c = await spawnAgent(h.client, fixtureAgent('action-agent.js', {}, 'batch-c'));
    for (const agent of [a, b, c]) pids.set(agent.id, await actionAgentPid(h.client, agent.id));
  });

  it('an empty list is a success with no results', async () => {
    const reply = await h.client.request(batchCommand([], 'get_status'));
    expect(reply.success).toBe(true);
    expect(reply.results).toEqual([]);
    expect(reply.successful).toBe(0);
    expect(reply.failed).toBe(0);
  });

  it('all agents succeeding → success, one result per agent in agent_ids order', async () => {
    const reply = await h.client.request(batchCommand([c.id, a.id, b.id], 'get_status'));
    expect(reply.success).toBe(true);
    expect(reply.results.map((r) => r.agent_id)).toEqual([c.id, a.id, b.id]);
    expect(reply.results.every((r) => r.success)).toBe(true);
    expect(reply.results.map((r) => r.status)).toEqual(['running', 'running', 'running']);
    expect(reply.successful).toBe(3);
    expect(reply.failed).toBe(0);
  });

  it('fail_fast: agents in order, stops at the first failure, results only for the agents tried', async () => {
    const reply = await h.client.request(
      batchCommand([a.id, GHOST, b.id], 'pause', { failFast: true, payload: { force: true } }),
    );
    expect(reply.success).toBe(false);
    expect(reply.results.map((r) => r.agent_id)).toEqual([a.id, GHOST]);
    expect(reply.results[0]?.success).toBe(true);
    expect(reply.results[0]?.status).toBe('paused');
    expect(reply.results[1]?.success).toBe(false);
    expect(reply.results[1]?.error).toBe(`Agent not found: ${GHOST}`);
    expect(reply.successful).toBe(1);
    expect(reply.failed).toBe(1);
    expect(await getStatus(h.client, a.id)).toBe('paused');
    await waitStopped(a.id, true);
    // b came after the failure: never acted on.
    expect(await getStatus(h.client, b.id)).toBe('running');
    expect(isProcessStopped(pids.get(b.id) ?? 0)).toBe(false);
  });

  it('continue mode: every agent is acted on, results in agent_ids order, the failure reported', async () => {
    const resumed = await h.client.request(controlCommand(a.id, 'resume'));
    expect(resumed.success).toBe(true);
    const reply = await h.client.request(
      batchCommand([c.id, GHOST, b.id, a.id], 'pause', { payload: { force: true } }),
    );
    expect(reply.success).toBe(false);
    expect(reply.results.map((r) => r.agent_id)).toEqual([c.id, GHOST, b.id, a.id]);
    expect(reply.results.map((r) => r.success)).toEqual([true, false, true, true]);
    expect(reply.results[1]?.error).toBe(`Agent not found: ${GHOST}`);
    expect(reply.successful).toBe(3);
    expect(reply.failed).toBe(1);
    for (const agent of [a, b, c]) {
      expect(await getStatus(h.client, agent.id)).toBe('paused');
      await waitStopped(agent.id, true);
    }
    const resume = await h.client.request(batchCommand([a.id, b.id, c.id], 'resume'));
    expect(resume.success).toBe(true);
    expect(resume.results.map((r) => r.status)).toEqual(['running', 'running', 'running']);
    for (const agent of [a, b, c]) await waitStopped(agent.id, false);
  });

  it('a repeated id is acted on once (first position kept)', async () => {
    const reply = await h.client.request(
      batchCommand([b.id, a.id, b.id, a.id], 'write_stdin', { payload: { data: 'dup-check\n' } }),
    );
    expect(reply.success).toBe(true);
    expect(reply.results.map((r) => r.agent_id)).toEqual([b.id, a.id]);
    for (const agent of [a, b]) await waitForLine(h.client, agent.id, 'stdin: dup-check');
    await sleep(300);
    for (const agent of [a, b]) {
      const lines = await waitForOutput(h.client, agent.id, () => true, { stream: 'stdout' });
      expect(
        lines.filter((l) => l === 'stdin: dup-check'),
        agent.name,
      ).toHaveLength(1);
    }
  });

  it('fail_fast with every agent succeeding acts on all of them', async () => {
    const reply = await h.client.request(
      batchCommand([a.id, b.id, c.id], 'write_stdin', { failFast: true, payload: { data: 'ff\n' } }),
    );
    expect(reply.success).toBe(true);
    expect(reply.successful).toBe(3);
    for (const agent of [a, b, c]) await waitForLine(h.client, agent.id, 'stdin: ff');
  });

  it('kill as a batch ends every agent', async () => {
    const reply = await h.client.request(batchCommand([a.id, b.id, c.id], 'kill'));
    expect(reply.success).toBe(true);
    expect(reply.failed).toBe(0);
  });
});
