import { describe, expect, it } from 'vitest';
import type { StatusUpdate } from '../../../../shared/protocol/types';
import { useConfirmStore } from '../../../../renderer/src/stores/confirm';
import { fleetKey, parseFleetKey, useFleetStore } from '../../../../renderer/src/stores/fleet';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { serverStatus } from '../fakeApi';
import { manualFrames, settle, withFreshApp } from '../setup';

const paused = (agentId: string): StatusUpdate => ({
  type: 'status_update',
  agent_id: agentId,
  update_type: 'status_changed',
  status: 'paused',
  message: 'paused by test',
  timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
});

describe('fleet store', () => {
  const ctx = withFreshApp();

  /** Two online servers (`north` 2 agents, `south` 3) and one offline (`west`, 1), fleet started. */
  async function threeServers() {
    const north = ctx.fake.addServer('north');
    const south = ctx.fake.addServer('south');
    const west = ctx.fake.addServer('west', { state: 'offline' });
    const n = ctx.fake.addAgents(north, 2);
    const s = ctx.fake.addAgents(south, 3);
    ctx.fake.addAgents(west, 1);
    await useServersStore().start();
    const fleet = useFleetStore();
    fleet.start();
    await settle();
    return { fleet, north, south, west, n, s };
  }

  it('lists the agents of every online server, one status subscription each, none of an offline one', async () => {
    const { fleet, north, south, west } = await threeServers();
    expect(fleet.count).toBe(5);
    expect(new Set(fleet.visible.map((r) => r.serverName))).toEqual(new Set(['north', 'south']));
    const listed = ctx.fake.callsOf('listAgents').map((c) => (c as { serverId: string }).serverId);
    expect(listed.sort()).toEqual([north, south].sort());
    const subs = [...ctx.fake.subscriptions.values()]
      .filter((s) => s.kind === 'status')
      .map((s) => s.serverId);
    expect(subs.sort()).toEqual([north, south].sort());
    expect(fleet.unlistedServers.map((s) => s.profile.id)).toEqual([west]);
    await fleet.stop();
    expect(ctx.fake.subscriptions.size).toBe(0);
  });

  it('marks the rows of a server that goes offline as last known, and re-lists it when it is back', async () => {
    const { fleet, north } = await threeServers();
    ctx.fake.emit('servers', [serverStatus(north, { state: 'offline' })]);
    await settle();
    expect(fleet.isLive(north)).toBe(false);
    expect(fleet.staleServers.map((s) => s.profile.id)).toEqual([north]);
    expect(fleet.visible.filter((r) => r.serverId === north)).toHaveLength(2); // kept, not live
    const listsBefore = ctx.fake.callsOf('listAgents').length;
    ctx.fake.addAgents(north, 1);
    ctx.fake.emit('servers', [serverStatus(north, { state: 'online' })]);
    await settle();
    expect(fleet.isLive(north)).toBe(true);
    expect(fleet.staleServers).toEqual([]);
    expect(ctx.fake.callsOf('listAgents').length).toBe(listsBefore + 1);
    expect(fleet.visible.filter((r) => r.serverId === north)).toHaveLength(3);
  });

  it('filters by server, state and text, and sorts by server then name', async () => {
    const { fleet, south, s } = await threeServers();
    expect(fleet.visible.map((r) => r.serverName)).toEqual(['north', 'north', 'south', 'south', 'south']);
    fleet.setSort('server');
    expect(fleet.visible.map((r) => r.serverName)).toEqual(['south', 'south', 'south', 'north', 'north']);
    fleet.serverFilter = south;
    expect(fleet.visible).toHaveLength(3);
    const frames = manualFrames();
    ctx.fake.emit('status', { serverId: south, updates: [paused(s[1]?.id ?? '')] });
    frames.run();
    fleet.statusFilter = 'paused';
    expect(fleet.visible.map((r) => r.agentId)).toEqual([s[1]?.id]);
    fleet.statusFilter = '';
    fleet.serverFilter = '';
    fleet.filterText = 'AGENT-00002';
    expect(fleet.visible.map((r) => r.id)).toEqual([fleetKey(south, s[2]?.id ?? '')]);
  });

  it('applies a status update to its own server only, and re-lists a server that reports an unknown agent', async () => {
    const { fleet, north, south, n } = await threeServers();
    const frames = manualFrames();
    const agent = n[0]?.id ?? '';
    ctx.fake.emit('status', { serverId: north, updates: [paused(agent)] });
    // The same agent id from another server is not this row (and is unknown there).
    ctx.fake.emit('status', { serverId: south, updates: [{ ...paused(agent), message: 'wrong server' }] });
    frames.run();
    const row = fleet.rows.get(fleetKey(north, agent));
    expect(row?.status).toBe('paused');
    expect(row?.message).toBe('paused by test');
    expect(fleet.rows.get(fleetKey(south, agent))).toBeUndefined();
    const southLists = () =>
      ctx.fake.callsOf('listAgents').filter((c) => (c as { serverId: string }).serverId === south).length;
    expect(southLists()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the re-list is debounced by 1 s
    await settle();
    expect(southLists()).toBe(2);
  });

  it('sends a selection across servers as one batch per server and reports each agent with its server', async () => {
    const { fleet, north, south, n, s } = await threeServers();
    const failing = s[0]?.id ?? '';
    ctx.fake.failing.add(failing);
    fleet.toggleAllFiltered();
    await fleet.control('pause');
    const batches = ctx.fake.callsOf('batchControl') as {
      serverId: string;
      agentIds: string[];
      command: string;
    }[];
    expect(batches).toHaveLength(2);
    const byServer = new Map(batches.map((b) => [b.serverId, b]));
    expect(byServer.get(north)?.agentIds.sort()).toEqual(n.map((a) => a.id).sort());
    expect(byServer.get(south)?.agentIds.sort()).toEqual(s.map((a) => a.id).sort());
    expect(batches.every((b) => b.command === 'pause')).toBe(true);
    expect(fleet.cells).toHaveLength(5);
    const failed = fleet.cells.find((c) => c.agentId === failing);
    expect(failed?.state).toBe('failure');
    expect(failed?.error).toBe('Agent is not running');
    expect(fleet.cells.filter((c) => c.state === 'success')).toHaveLength(4);
    expect(fleet.cellName(failing)).toBe('south › agent-00000');
    expect(fleet.parts.map((p) => p.serverName).sort()).toEqual(['north', 'south']);
    expect(fleet.parts.every((p) => p.issued?.kind === 'outcome')).toBe(true);
    // The replies' statuses show before the status stream says so.
    expect(fleet.rows.get(fleetKey(north, n[0]?.id ?? ''))?.status).toBe('paused');
  });

  it('asks before stop and kill: a cancelled question sends nothing, a confirmed one sends', async () => {
    const { fleet, n, s } = await threeServers();
    fleet.toggle(fleetKey(ctx.fake.servers[0]?.profile.id ?? '', n[0]?.id ?? ''));
    fleet.toggle(fleetKey(ctx.fake.servers[1]?.profile.id ?? '', s[0]?.id ?? ''));
    const confirm = useConfirmStore();
    const cancelled = fleet.control('kill');
    await settle();
    expect(confirm.pending?.command).toBe('kill');
    expect(confirm.pending?.targets.map((t) => `${t.serverName ?? ''}/${t.name}`).sort()).toEqual([
      'north/agent-00000',
      'south/agent-00000',
    ]);
    confirm.answer(false);
    await cancelled;
    expect(ctx.fake.callsOf('batchControl')).toEqual([]);
    const confirmed = fleet.control('stop');
    await settle();
    confirm.answer(true);
    await confirmed;
    expect(ctx.fake.callsOf('batchControl')).toHaveLength(2);
  });

  it('refuses a batch with nothing selected, saying what to do', async () => {
    const { fleet } = await threeServers();
    await fleet.control('pause');
    expect(fleet.batchError).toMatch(/No agents are selected: tick agents/);
    expect(ctx.fake.callsOf('batchControl')).toEqual([]);
  });

  it('drops a removed server: its rows and its subscription', async () => {
    const { fleet, north } = await threeServers();
    ctx.fake.servers = ctx.fake.servers.filter((s) => s.profile.id !== north);
    await useServersStore().refresh();
    await settle();
    expect(fleet.visible.some((r) => r.serverId === north)).toBe(false);
    expect([...ctx.fake.subscriptions.values()].some((s) => s.serverId === north)).toBe(false);
  });

  it('reads its row keys back', () => {
    const key = fleetKey('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002');
    expect(parseFleetKey(key)).toEqual({
      serverId: '00000000-0000-4000-8000-000000000001',
      agentId: '00000000-0000-4000-8000-000000000002',
    });
    expect(parseFleetKey('no-colon')).toBeNull();
    expect(parseFleetKey(':x')).toBeNull();
  });
});
