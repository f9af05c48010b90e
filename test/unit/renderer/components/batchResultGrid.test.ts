import { mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import BatchResultGrid from '../../../../renderer/src/components/BatchResultGrid.vue';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useBatchStore } from '../../../../renderer/src/stores/batch';
import { settle, withFreshServer } from '../setup';

const LONG_REASON =
  "backend 'claude': the agent process could not be paused because it ignored SIGSTOP and the supervisor gave up after 5 attempts; check the agent's own log";

describe('BatchResultGrid', () => {
  const ctx = withFreshServer();
  afterEach(() => {
    Reflect.deleteProperty(navigator, 'clipboard');
  });

  /** Runs a pause on four agents of which two fail: one with a long reason, one naming its id. */
  async function failedBatch() {
    const agents = ctx.fake.addAgents(ctx.serverId, 4);
    const [a, b, c, d] = agents.map((x) => x.id) as [string, string, string, string];
    ctx.fake.failing.add(b).add(d);
    ctx.fake.failReason.set(b, LONG_REASON);
    ctx.fake.failReason.set(d, `Agent not found: ${d}`);
    await useAgentsStore().open(ctx.serverId);
    const wrapper = mount(BatchResultGrid, {
      props: { viewportFallback: 400 },
      global: { plugins: [ctx.pinia] },
    });
    await useBatchStore().start(ctx.serverId, [a, b, c, d], 'pause', false);
    await settle();
    return { wrapper, agents };
  }

  it('names agents as the list does and shows every failure reason in full, grouped', async () => {
    const { wrapper, agents } = await failedBatch();
    expect(wrapper.findAll('[data-testid="batch-result-name"]').map((n) => n.text())).toEqual(
      agents.map((a) => a.name),
    );
    const groups = wrapper.findAll('[data-testid="batch-failure-group"]');
    expect(groups.map((g) => g.get('[data-testid="batch-failure-reason"]').text())).toEqual([
      LONG_REASON,
      // The agent's own id is left out: its name is beside the reason.
      'Agent not found',
    ]);
    expect(groups.map((g) => g.get('[data-testid="batch-failure-agents"]').text())).toEqual([
      agents[1]?.name,
      agents[3]?.name,
    ]);
    expect(wrapper.get('[data-testid="batch-failures"]').text()).toContain('2 failures');
  });

  it('copies all failures, one line per agent, or selects them when the clipboard refuses', async () => {
    const { wrapper, agents } = await failedBatch();
    const writeText = vi.fn((_text: string) => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await wrapper.get('[data-testid="batch-copy-failures"]').trigger('click');
    await settle();
    const [b, d] = [agents[1], agents[3]];
    expect(writeText).toHaveBeenCalledWith(
      `${b?.name}\t${b?.id}\t${LONG_REASON}\n${d?.name}\t${d?.id}\tAgent not found`,
    );
    expect(wrapper.get('[data-testid="batch-copy-status"]').text()).toBe('Copied to the clipboard.');

    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: () => Promise.reject(new Error('denied')) },
      configurable: true,
    });
    await wrapper.get('[data-testid="batch-copy-failures"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="batch-copy-status"]').text()).toMatch(/Could not copy.*Ctrl\+C/);
    expect(
      (wrapper.get('[data-testid="batch-failures-text"]').element as HTMLTextAreaElement).value,
    ).toContain(LONG_REASON);
  });
});
