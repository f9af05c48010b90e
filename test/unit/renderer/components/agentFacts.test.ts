import { mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { AGENT_DETAILS_CAPABILITY, type AgentDetails } from '../../../../shared/domain/agentDetails';
import type { StatusUpdate } from '../../../../shared/protocol/types';
import AgentFacts from '../../../../renderer/src/components/AgentFacts.vue';
import { REFETCH_DELAY_MS, useAgentDetailsStore } from '../../../../renderer/src/stores/agentDetails';
import { runningDetails } from '../../../helpers/agentDetails';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { statusUpdate } from '../fakeApi';
import { settle, withFreshAgent } from '../setup';

const START = Date.UTC(2026, 0, 2, 3, 4, 5);

function details(agentId: string, over: Partial<AgentDetails> = {}): AgentDetails {
  return runningDetails(agentId, START, over);
}

/** A status change carrying `data` (the server's pending-request hints ride there). */
function update(
  agentId: string,
  status: StatusUpdate['status'],
  data: StatusUpdate['data'] = null,
): StatusUpdate {
  return { ...statusUpdate(agentId, status), data };
}

describe('AgentFacts', () => {
  const ctx = withFreshAgent();

  function mountFacts() {
    return mount(AgentFacts, { props: ctx.ids, global: { plugins: [ctx.pinia] } });
  }

  /** An agent on a server that advertises `agent_details` (as ours does), and its facts view. */
  async function reportingAgent() {
    const serverId = ctx.fake.addServer('reports', { capabilities: [AGENT_DETAILS_CAPABILITY] });
    const agentId = ctx.fake.addAgents(serverId, 1)[0]?.id ?? '';
    await useServersStore().start();
    const mountIt = () =>
      mount(AgentFacts, { props: { serverId, agentId }, global: { plugins: [ctx.pinia] } });
    return { serverId, agentId, mountIt };
  }

  it('shows PID and a live uptime while the agent runs', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'], now: START + 65_000 });
    try {
      ctx.fake.details.set(ctx.agentId, details(ctx.agentId));
      const wrapper = mountFacts();
      await settle();
      expect(ctx.fake.callsOf('agentDetails')).toEqual([{ serverId: ctx.serverId, agentIds: [ctx.agentId] }]);
      expect(wrapper.get('[data-testid="agent-pid"]').text()).toBe('4321');
      expect(wrapper.get('[data-testid="agent-uptime"]').text()).toBe('1 min 5 s');
      expect(wrapper.find('[data-testid="agent-ending"]').exists()).toBe(false);
      vi.advanceTimersByTime(60_000);
      await settle();
      expect(wrapper.get('[data-testid="agent-uptime"]').text()).toBe('2 min 5 s');
    } finally {
      vi.useRealTimers();
    }
  });

  it('freezes the uptime at the last contact while the server is out of reach, and says so', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'], now: START + 65_000 });
    try {
      const serverId = ctx.fake.addServer('gone', {
        capabilities: [AGENT_DETAILS_CAPABILITY],
        state: 'offline',
        lastHeardAt: START + 30_000,
      });
      const agentId = ctx.fake.addAgents(serverId, 1)[0]?.id ?? '';
      ctx.fake.details.set(agentId, details(agentId));
      await useServersStore().start();
      const wrapper = mount(AgentFacts, { props: { serverId, agentId }, global: { plugins: [ctx.pinia] } });
      await settle();
      expect(wrapper.get('[data-testid="agent-uptime"]').text()).toBe('30 s at last contact');
      vi.advanceTimersByTime(60_000);
      await settle();
      expect(wrapper.get('[data-testid="agent-uptime"]').text()).toBe('30 s at last contact');
    } finally {
      vi.useRealTimers();
    }
  });

  it('says "lost when the server stopped" for a lost agent, with start → end', async () => {
    ctx.fake.details.set(
      ctx.agentId,
      details(ctx.agentId, { endedAtMs: START + 3_600_000 + 120_000, endReason: 'lost' }),
    );
    const wrapper = mountFacts();
    await settle();
    expect(wrapper.get('[data-testid="agent-ending"]').text()).toBe('lost when the server stopped');
    expect(wrapper.get('[data-testid="agent-uptime"]').text()).toMatch(/^1 h 2 min \(.+ → .+\)$/);
  });

  it('names the exit code, the operator stop and a foreign signal', async () => {
    const wrapper = mountFacts();
    const store = useAgentDetailsStore();
    const cases: [Partial<AgentDetails>, string][] = [
      [{ endReason: 'failed', exitCode: 3 }, 'failed with exit code 3'],
      [{ endReason: 'operator', signal: 'SIGTERM' }, 'stopped by an operator (SIGTERM)'],
      [{ endReason: 'signal', signal: 'SIGKILL' }, 'ended by SIGKILL (not sent from a console)'],
      [{ endReason: 'completed', exitCode: 0 }, 'completed (exit code 0)'],
    ];
    for (const [over, words] of cases) {
      ctx.fake.details.set(ctx.agentId, details(ctx.agentId, { endedAtMs: START + 1000, ...over }));
      await store.load(ctx.serverId, [ctx.agentId]);
      await settle();
      expect(wrapper.get('[data-testid="agent-ending"]').text()).toBe(words);
    }
  });

  it('says it is loading (not "does not report") while a server that reports facts has given none yet', async () => {
    const { serverId, mountIt } = await reportingAgent();
    const wrapper = mountIt();
    await settle();
    expect(wrapper.find('[data-testid="agent-facts-none"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="agent-facts-loading"]').text()).toBe(
      'Loading PID, uptime and exit code…',
    );
    // An agent first heard of in a status update (one just spawned) gets its facts fetched.
    const fresh = ctx.fake.addAgents(serverId, 1)[0]?.id ?? '';
    ctx.fake.details.set(fresh, details(fresh));
    ctx.fake.emit('status', { serverId, updates: [update(fresh, 'running')] });
    await new Promise((resolve) => setTimeout(resolve, REFETCH_DELAY_MS + 50));
    await settle();
    expect(useAgentDetailsStore().get(fresh)?.pid).toBe(4321);
  });

  it('says plainly when the server reports no facts', async () => {
    const wrapper = mountFacts();
    await settle();
    expect(wrapper.get('[data-testid="agent-facts-none"]').text()).toBe(
      'This server does not report PID, uptime or exit code.',
    );
  });

  it('refetches only agents that ended or paused, in one request per burst, and patches pending from the update', async () => {
    const { serverId, agentId, mountIt } = await reportingAgent();
    ctx.fake.details.set(agentId, details(agentId));
    const wrapper = mountIt();
    await settle();
    const store = useAgentDetailsStore();
    const calls = (): number => ctx.fake.callsOf('agentDetails').length;
    const before = calls();

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // A flood of running/output updates and a pending pause: no request.
      const flood = Array.from({ length: 5000 }, () => update(agentId, 'running'));
      ctx.fake.emit('status', {
        serverId: serverId,
        updates: [...flood, update(agentId, 'running', { pending: 'pause' })],
      });
      expect(store.get(agentId)?.pendingRequest).toBe('pause');
      vi.advanceTimersByTime(REFETCH_DELAY_MS * 4);
      expect(calls()).toBe(before);

      // Ends, many times over: one request.
      ctx.fake.details.set(
        agentId,
        details(agentId, { endedAtMs: START + 5000, endReason: 'completed', exitCode: 0 }),
      );
      for (let i = 0; i < 100; i++)
        ctx.fake.emit('status', { serverId: serverId, updates: [update(agentId, 'completed')] });
      vi.advanceTimersByTime(REFETCH_DELAY_MS);
    } finally {
      vi.useRealTimers();
    }
    await settle();
    expect(calls()).toBe(before + 1);
    expect(wrapper.get('[data-testid="agent-ending"]').text()).toBe('completed (exit code 0)');
  });
});
