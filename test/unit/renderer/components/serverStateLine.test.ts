import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerStatus } from '../../../../shared/domain/server';
import { fail } from '../../../../shared/ipc';
import ServerStateLine from '../../../../renderer/src/components/ServerStateLine.vue';
import ServersView from '../../../../renderer/src/views/ServersView.vue';
import AgentsView from '../../../../renderer/src/views/AgentsView.vue';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { serverStatus } from '../fakeApi';
import { settle, withFreshApp } from '../setup';

const sel = (id: string): string => `[data-testid="${id}"]`;
/** 2026-03-02 14:02:11 local time: the clock the tests read. */
const NOW = new Date(2026, 2, 2, 14, 2, 11).getTime();
const THREE_MIN_AGO = NOW - 3 * 60_000;
/** "HH:MM:SS" of a local time, made independently of the code under test. */
const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);
/** A server lost three minutes ago. */
const LOST = {
  state: 'offline',
  lastHeardAt: THREE_MIN_AGO,
  lastError: 'the embedded server exited (signal SIGKILL)',
} as const;

describe('ServerStateLine', () => {
  const ctx = withFreshApp();
  let wrapper: VueWrapper | null = null;

  beforeEach(() => {
    // Date and the view's 1 s ticker only: promises and setTimeout stay real.
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    wrapper?.unmount();
    wrapper = null;
    vi.useRealTimers();
  });

  function line(over: Partial<ServerStatus>, embedded = false, staleNote = false): VueWrapper {
    wrapper = mount(ServerStateLine, {
      props: { status: serverStatus('srv', over), embedded, staleNote },
      global: { plugins: [ctx.pinia] },
    });
    return wrapper;
  }

  it('connecting: only a server never reached yet, in the info tone, never heard from', () => {
    const w = line({ state: 'connecting', lastHeardAt: null });
    const pill = w.get(sel('server-state'));
    expect(pill.text()).toBe('connecting');
    expect(pill.classes()).toContain('tone-info');
    expect(w.get(sel('server-last-heard')).text()).toBe('never heard from');
    expect(w.find(sel('server-state-retry')).exists()).toBe(false);
    expect(w.find(sel('server-restart')).exists()).toBe(false);
  });

  it('online: ok tone, last heard with its clock time, no reason even if one is left over', () => {
    const w = line({ state: 'online', lastHeardAt: NOW - 2000, lastError: 'old news' });
    expect(w.get(sel('server-state')).text()).toBe('online');
    expect(w.get(sel('server-state')).classes()).toContain('tone-ok');
    expect(w.get(sel('server-last-heard')).text()).toBe(`last heard ${clock(NOW - 2000)} (2 s ago)`);
    expect(w.find(sel('server-state-reason')).exists()).toBe(false);
    expect(w.find(sel('server-state-retry')).exists()).toBe(false);
  });

  it('degraded: warning tone with the reason', () => {
    const w = line({
      state: 'degraded',
      lastHeardAt: NOW - 6000,
      lastError: 'no answer to 1 health check in a row',
    });
    expect(w.get(sel('server-state')).classes()).toContain('tone-warn');
    expect(w.get(sel('server-state-reason')).text()).toBe('no answer to 1 health check in a row');
    expect(w.find(sel('server-state-retry')).exists()).toBe(false);
  });

  it('offline, waiting: a live countdown, the reason and last heard, all in the error tone', async () => {
    const w = line({ ...LOST, nextAttemptAt: NOW + 12_000 });
    expect(w.get(sel('server-state-line')).attributes('data-state')).toBe('offline');
    expect(w.get(sel('server-state')).text()).toBe('offline');
    expect(w.get(sel('server-state')).classes()).toContain('tone-error');
    expect(w.get(sel('server-state-retry')).text()).toBe('retrying in 12 s');
    expect(w.get(sel('server-state-reason')).text()).toBe('the embedded server exited (signal SIGKILL)');
    expect(w.get(sel('server-state-reason')).classes()).toContain('tone-error');
    expect(w.get(sel('server-last-heard')).text()).toBe(`last heard ${clock(THREE_MIN_AGO)} (3 min ago)`);
    // Not embedded: nothing to restart from here.
    expect(w.find(sel('server-restart')).exists()).toBe(false);

    vi.advanceTimersByTime(1000);
    await w.vm.$nextTick();
    expect(w.get(sel('server-state-retry')).text()).toBe('retrying in 11 s');
    vi.advanceTimersByTime(11_000);
    await w.vm.$nextTick();
    expect(w.get(sel('server-state-retry')).text()).toBe('retrying in 0 s');
  });

  it('offline, retrying: "retrying now…" and still offline', async () => {
    const w = line({ ...LOST, nextAttemptAt: NOW + 5000 });
    await w.setProps({ status: serverStatus('srv', { ...LOST, retrying: true, nextAttemptAt: null }) });
    expect(w.get(sel('server-state')).text()).toBe('offline');
    expect(w.get(sel('server-state-line')).attributes('data-retrying')).toBe('true');
    expect(w.get(sel('server-state-retry')).text()).toBe('retrying now…');
    expect(w.get(sel('server-state-reason')).text()).toBe(LOST.lastError);
  });

  it('says the data beside it is as of the last contact while offline, and nothing when online', async () => {
    const w = line({ state: 'offline', lastHeardAt: THREE_MIN_AGO, nextAttemptAt: NOW + 1000 }, false, true);
    expect(w.get(sel('server-stale-note')).text()).toBe(
      `The server is offline: what is shown is as of ${clock(THREE_MIN_AGO)}, not live. Commands you issue are queued until it is back.`,
    );
    await w.setProps({ status: serverStatus('srv', { state: 'offline', lastHeardAt: null }) });
    expect(w.get(sel('server-stale-note')).text()).toContain(
      'was never reached: nothing shown here comes from it',
    );
    await w.setProps({ status: serverStatus('srv', { state: 'online' }) });
    expect(w.find(sel('server-stale-note')).exists()).toBe(false);
  });
});

describe('Restart of the embedded server', () => {
  const ctx = withFreshApp();
  let wrapper: VueWrapper | null = null;
  afterEach(() => {
    wrapper?.unmount();
    wrapper = null;
  });

  async function mountServers(): Promise<VueWrapper> {
    wrapper = mount(ServersView, { global: { plugins: [ctx.pinia] } });
    await useServersStore().start();
    await settle();
    return wrapper;
  }

  const card = (w: VueWrapper, id: string) => w.get(`${sel('server-card')}[data-server-id="${id}"]`);

  it('shows Restart only for the embedded server while offline; busy while it restarts; online after', async () => {
    const lost = {
      state: 'offline' as const,
      lastError: 'the embedded server exited (signal SIGKILL)',
      nextAttemptAt: Date.now() + 8000,
    };
    const local = ctx.fake.addServer('Local agent server', lost, true);
    const remote = ctx.fake.addServer('lab', lost);
    const up = ctx.fake.addServer('local but online', {}, true);
    const w = await mountServers();
    expect(card(w, remote).find(sel('server-restart')).exists()).toBe(false);
    expect(card(w, up).find(sel('server-restart')).exists()).toBe(false);
    const button = card(w, local).get(sel('server-restart'));
    expect(button.element.tagName).toBe('BUTTON');
    expect(button.text()).toBe('Restart');

    let open = (): void => undefined;
    ctx.fake.restartGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    await button.trigger('click');
    await settle();
    const busy = card(w, local).get(sel('server-restart'));
    expect(busy.attributes('disabled')).toBeDefined();
    expect(busy.find('.spinner').exists()).toBe(true);
    expect(busy.text()).toBe('Restarting…');
    expect(ctx.fake.callsOf('restartEmbeddedServer')).toEqual([{ serverId: local }]);

    open();
    await settle();
    expect(card(w, local).attributes('data-state')).toBe('online');
    expect(card(w, local).get(sel('server-state')).text()).toBe('online');
    expect(card(w, local).find(sel('server-restart')).exists()).toBe(false);
    expect(card(w, local).find(sel('server-restart-error')).exists()).toBe(false);
  });

  it('says why a restart failed and what to do, and stays offline', async () => {
    const local = ctx.fake.addServer('Local agent server', { state: 'offline', lastError: 'gone' }, true);
    ctx.fake.restartError = fail(
      'offline',
      "The local agent server did not start again: port 5555 or 5556 on 127.0.0.1 is taken by another program; stop it (or edit the server's endpoint) and try again",
    );
    const w = await mountServers();
    await card(w, local).get(sel('server-restart')).trigger('click');
    await settle();
    expect(card(w, local).get(sel('server-restart-error')).text()).toBe(
      "The local agent server did not start again: port 5555 or 5556 on 127.0.0.1 is taken by another program; stop it (or edit the server's endpoint) and try again",
    );
    expect(card(w, local).get(sel('server-state')).text()).toBe('offline');
    // The button is back for another try.
    expect(card(w, local).get(sel('server-restart')).attributes('disabled')).toBeUndefined();
  });

  it('the agents view shows the state line and says its list is as of the last contact', async () => {
    const heard = Date.now() - 60_000;
    const local = ctx.fake.addServer(
      'Local agent server',
      { state: 'offline', lastHeardAt: heard, lastError: 'gone' },
      true,
    );
    await useServersStore().start();
    wrapper = mount(AgentsView, { props: { serverId: local }, global: { plugins: [ctx.pinia] } });
    await settle();
    expect(wrapper.get(sel('server-state')).text()).toBe('offline');
    expect(wrapper.get(sel('server-stale-note')).text()).toContain(`as of ${clock(heard)}, not live`);
    expect(wrapper.find(sel('server-restart')).exists()).toBe(true);
  });
});
