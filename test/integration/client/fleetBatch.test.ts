/**
 * The all-servers table against two real agent servers, through the real browser host, core
 * and WebSocket client: a selection that spans both servers is paused as exactly one
 * `batch_control_command` per server (each server's exec log holds one, naming only its own
 * agents), and the merged log shows live lines of an agent on each server under its name.
 */
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserHost, type BrowserHost } from '../../../main/browser/browserHost';
import { createConsoleHandlers, type ConsoleHandlers } from '../../../main/core/ipc/consoleHandlers';
import type { ConsoleCore } from '../../../main/core/services/consoleCore';
import { installApi } from '../../../renderer/src/api';
import { createBrowserClient, type BrowserClient } from '../../../renderer/src/api/browserClient';
import { useAgentDetailsStore } from '../../../renderer/src/stores/agentDetails';
import { fleetKey, useFleetStore } from '../../../renderer/src/stores/fleet';
import { useMergedLogStore } from '../../../renderer/src/stores/mergedLog';
import { useServersStore } from '../../../renderer/src/stores/servers';
import { PortAllocator } from '../../helpers/ports';
import type { ServerProcess } from '../../helpers/serverProcess';
import { waitUntil } from '../../helpers/wait';
import { webSocketWithOrigin, writeRenderer } from '../browser/hostKit';
import {
  nodeAgent,
  openTestCore,
  readExecLog,
  securityOf,
  startNodeServer,
  useTestBed,
  waitServerOnline,
} from './clientKit';

const ports = new PortAllocator(29000, 29199);
const bed = useTestBed('descartes-fleet-');

interface Farm {
  name: string;
  server: ServerProcess;
  serverId: string;
  agentIds: string[];
  execLog: string;
}

let core: ConsoleCore;
let handlers: ConsoleHandlers;
let host: BrowserHost;
let api: BrowserClient;
const farms: Farm[] = [];

beforeAll(async () => {
  // Not bed.core: that one is disposed after each test, and this file's tests share one core.
  core = openTestCore({ dataDir: bed.path('core'), requestTimeoutMs: 10_000 });
  for (const name of ['north', 'south']) {
    const dir = bed.path(name);
    const server = await startNodeServer(await ports.next(), await ports.next(), dir);
    const serverId = core.registry.add({
      name,
      endpoint: server.bind,
      heartbeatIntervalMs: 500,
      security: securityOf(server),
    }).id;
    await waitServerOnline(core.registry, serverId);
    const agentIds: string[] = [];
    for (const agent of ['one', 'two']) {
      const lines = JSON.stringify([
        ['out', `${name}-${agent} says hello`],
        ['out', `${name}-${agent} still here`],
      ]);
      const spawned = await core.service.spawnAgent(serverId, {
        // Silent until told `go` on stdin, so the merged log sees their lines live.
        ...nodeAgent('lines.js', `${name}-${agent}`, { LINES: lines, WAIT_FOR_GO: '1' }),
      });
      if (spawned.status !== 'done' || !spawned.reply.success || !spawned.reply.agent_info)
        throw new Error(`spawn on ${name}: ${JSON.stringify(spawned)}`);
      agentIds.push(spawned.reply.agent_info.id);
    }
    farms.push({ name, server, serverId, agentIds, execLog: join(dir, 'exec.log') });
  }
  handlers = createConsoleHandlers(core, {
    info: { version: '9.9.9', host: 'browser', embeddedServer: null },
  });
  host = await startBrowserHost({
    handlers,
    rendererDir: writeRenderer(bed.path('ui')),
    port: await ports.next(),
  });
  api = createBrowserClient(`ws://127.0.0.1:${host.port}/ws`, host.token, {
    WebSocketImpl: webSocketWithOrigin(host.origin),
  });
  installApi(api);
  setActivePinia(createPinia());
  await useServersStore().start();
}, 90_000);

afterAll(async () => {
  await useMergedLogStore().close();
  await useFleetStore().stop();
  useServersStore().stop();
  // Its refetch timer (a status update of an agent that ended) must not fire without an api.
  useAgentDetailsStore().dispose();
  installApi(null);
  api.close();
  await host.close();
  handlers.dispose();
  await core.dispose(0);
  for (const farm of farms) await farm.server.stop();
});

describe('the all-servers table on two real servers', () => {
  it('lists both servers’ agents and pauses a selection across them with one batch per server', async () => {
    const fleet = useFleetStore();
    fleet.start();
    await waitUntil(() => (fleet.count === 4 ? true : undefined), {
      what: 'four agents listed from two servers',
    });
    expect(new Set(fleet.visible.map((r) => r.serverName))).toEqual(new Set(['north', 'south']));

    // The first agent of each server.
    const [north, south] = farms;
    if (!north || !south) throw new Error('farms missing');
    const picked = [
      fleetKey(north.serverId, north.agentIds[0] ?? ''),
      fleetKey(south.serverId, south.agentIds[0] ?? ''),
    ];
    for (const key of picked) fleet.toggle(key);
    await fleet.control('pause');

    expect(fleet.cells.map((c) => c.state)).toEqual(['success', 'success']);
    expect(fleet.cells.map((c) => fleet.cellName(c.agentId)).sort()).toEqual([
      'north › north-one',
      'south › south-one',
    ]);
    const batchesOf = (farm: Farm) =>
      readExecLog(farm.execLog)
        .filter((e) => e.type === 'batch_control_command')
        .map((e) => e as typeof e & { agent_ids?: string[] });
    expect(batchesOf(north)).toHaveLength(1);
    expect(batchesOf(south)).toHaveLength(1);
    // Each server was asked about its own agent only.
    expect(batchesOf(north)[0]?.agent_ids).toEqual([north.agentIds[0]]);
    expect(batchesOf(south)[0]?.agent_ids).toEqual([south.agentIds[0]]);
    expect(batchesOf(north)[0]?.command_type).toBe('pause');
    await waitUntil(
      () =>
        picked.every((key) => fleet.rows.get(key)?.status === 'paused') &&
        fleet.rows.get(fleetKey(north.serverId, north.agentIds[1] ?? ''))?.status === 'running'
          ? true
          : undefined,
      { what: 'the two picked agents paused, the others still running' },
    );
  }, 60_000);

  it('merges the live output of an agent on each server, each line under its agent’s name', async () => {
    const [north, south] = farms;
    if (!north || !south) throw new Error('farms missing');
    const log = useMergedLogStore();
    await log.open([
      { serverId: north.serverId, agentId: north.agentIds[1] ?? '' },
      { serverId: south.serverId, agentId: south.agentIds[1] ?? '' },
    ]);
    expect(log.sources.map((s) => s.error ?? s.tailId !== null)).toEqual([true, true]);
    await core.service.writeAgentStdin(north.serverId, north.agentIds[1] ?? '', 'go\n');
    await core.service.writeAgentStdin(south.serverId, south.agentIds[1] ?? '', 'go\n');
    await waitUntil(
      () => {
        const named = log.shown.map((l) => `${log.sources[l.source]?.name ?? '?'}: ${l.text}`);
        return named.includes('north-two: north-two still here') &&
          named.includes('south-two: south-two still here')
          ? true
          : undefined;
      },
      { what: 'a live line of each agent in the merged log', timeoutMs: 30_000 },
    );
  }, 60_000);
});
