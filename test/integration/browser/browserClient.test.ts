import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserHost, type BrowserHost } from '../../../main/browser/browserHost';
import { createBrowserClient, type BrowserClient } from '../../../renderer/src/api/browserClient';
import type { ConsoleEvents } from '../../../shared/ipc';
import { PortAllocator } from '../../helpers/ports';
import { waitUntil } from '../../helpers/wait';
import { startRig, webSocketWithOrigin, type HostRig } from './hostKit';

const ports = new PortAllocator(32200, 32299);
let rig: HostRig;
const clients: BrowserClient[] = [];

beforeAll(async () => {
  const port = await ports.next();
  await ports.next();
  rig = await startRig(port, await ports.next());
});
afterAll(async () => {
  for (const c of clients) c.close();
  await rig.close();
});

function client(
  host: { port: number; origin: string; token: string },
  opts: { connectWaitMs?: number } = {},
): BrowserClient {
  const c = createBrowserClient(`ws://127.0.0.1:${host.port}/ws`, host.token, {
    WebSocketImpl: webSocketWithOrigin(host.origin),
    minBackoffMs: 50,
    maxBackoffMs: 200,
    ...opts,
  });
  clients.push(c);
  return c;
}

describe('browser client against the real host', () => {
  it('calls methods (waiting for the first connection) and delivers events to on() handlers', async () => {
    const api = client(rig.host);
    const info = await api.appInfo();
    expect(info).toMatchObject({ ok: true, value: { host: 'browser', version: '9.9.9' } });
    const servers = await api.listServers();
    expect(servers.ok && servers.value[0]?.profile.id).toBe(rig.serverId);

    const seen: ConsoleEvents['queue'][] = [];
    const off = api.on('queue', (cmds) => seen.push(cmds));
    const r = await api.sendAction({
      serverId: rig.serverId,
      agentId: '00000000-0000-0000-0000-000000000000',
      action: 'ping',
    });
    expect(r.ok && r.value.status).toBe('done');
    await waitUntil(() => (seen.flat().some((c) => r.ok && c.id === r.value.command.id) ? true : undefined), {
      what: 'a queue event for the command',
    });
    off();
    const count = seen.length;
    await api.sendAction({
      serverId: rig.serverId,
      agentId: '00000000-0000-0000-0000-000000000000',
      action: 'ping',
    });
    await new Promise((res) => setTimeout(res, 150));
    expect(seen.length).toBe(count);

    const bad = await api.health({ serverId: '' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('resolves offline (never throws) when no host answers', async () => {
    const nowhere = await ports.next();
    const api = client(
      { port: nowhere, origin: `http://127.0.0.1:${nowhere}`, token: 't' },
      { connectWaitMs: 300 },
    );
    const started = Date.now();
    const r = await api.listServers();
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'offline', message: expect.stringContaining('npm start') as unknown },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(api.connected).toBe(false);
  });

  it('reconnects after the host restarts and restores its subscriptions', async () => {
    const port = await ports.next();
    let host: BrowserHost = await startBrowserHost({
      handlers: rig.handlers,
      rendererDir: rig.rendererDir,
      port,
    });
    const token = host.token;
    const api = client(host);
    const resyncs: ConsoleEvents['resync'][] = [];
    api.on('resync', (r) => resyncs.push(r));
    const sub = await api.subscribeStatus({ serverId: rig.serverId });
    expect(sub.ok).toBe(true);
    if (!sub.ok) return;
    expect(rig.handlers.subscriptionCount()).toBe(1);

    await host.close();
    await waitUntil(() => (rig.handlers.subscriptionCount() === 0 && !api.connected ? true : undefined), {
      what: 'the host side to release the subscription',
    });
    host = await startBrowserHost({ handlers: rig.handlers, rendererDir: rig.rendererDir, port, token });
    await waitUntil(() => (resyncs.length > 0 ? true : undefined), {
      what: 'a resync after the reconnect',
      timeoutMs: 5000,
    });
    expect(resyncs[0]).toEqual({ serverId: rig.serverId, reason: 'reconnected to the console host' });
    expect(rig.handlers.subscriptionCount()).toBe(1);
    // The id the caller holds still works.
    expect(await api.unsubscribe({ subscriptionId: sub.value.subscriptionId })).toEqual({
      ok: true,
      value: null,
    });
    await waitUntil(() => (rig.handlers.subscriptionCount() === 0 ? true : undefined), {
      what: 'the unsubscribe',
    });
    api.close();
    await host.close();
  });
});
