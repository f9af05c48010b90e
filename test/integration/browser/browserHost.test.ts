import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../../shared/domain/result';
import type { QueuedCommand } from '../../../shared/domain/command';
import type { AppInfo, LogChunkView, ServerView } from '../../../shared/ipc';
import type { ClientKeyInfo, ConnectionTestResult } from '../../../shared/domain/server';
import type { CommandResponse, OutputQueryResponse, SpawnResponse } from '../../../shared/protocol';
import { fixtureAgent } from '../../helpers/agents';
import { PortAllocator } from '../../helpers/ports';
import { waitUntil } from '../../helpers/wait';
import { startRig, WireClient, wsUrl, type HostRig } from './hostKit';
import { securityOf } from '../transport/curveKit';
import { pageSecurityPolicy } from '../../../shared/node/pageSecurityPolicy';

const ports = new PortAllocator(32100, 32199);
let rig: HostRig;

beforeAll(async () => {
  const port = await ports.next();
  await ports.next(); // its PUB port
  rig = await startRig(port, await ports.next());
});
afterAll(async () => {
  await rig.close();
});

/** A raw HTTP GET (fetch would not let us set Host, and hides Set-Cookie details). */
function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: rig.host.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser host over HTTP', () => {
  it('refuses pages without the token and serves them with it, with strict headers', async () => {
    const without = await get('/');
    expect(without.status).toBe(403);
    expect(without.body).toContain('token');
    const wrong = await get(`/?token=${'x'.repeat(rig.host.token.length)}`);
    expect(wrong.status).toBe(403);

    const page = await get(`/?token=${rig.host.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Descartes</title>');
    // The one policy every host of the page sends, with the host's own API socket.
    expect(page.headers['content-security-policy']).toBe(
      pageSecurityPolicy({ webSockets: [`ws://127.0.0.1:${rig.host.port}`] }),
    );
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain(`descartes_token=${rig.host.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });

  it('serves assets with the cookie, not without, and never outside the renderer folder', async () => {
    const cookie = `descartes_token=${rig.host.token}`;
    expect((await get('/assets/app.js')).status).toBe(403);
    const asset = await get('/assets/app.js', { Cookie: cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect((await get('/../package.json', { Cookie: cookie })).status).toBe(404);
    expect((await get('/%2e%2e/%2e%2e/package.json', { Cookie: cookie })).status).toBe(404);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await get(`/?token=${rig.host.token}`, { Host: `evil.example:${rig.host.port}` });
    expect(r.status).toBe(403);
  });
});

describe('browser host WebSocket', () => {
  it('refuses a wrong Origin, a missing Origin and a missing token', async () => {
    await expect(WireClient.connect(wsUrl(rig.host), 'http://evil.example')).rejects.toThrow('403');
    await expect(WireClient.connect(wsUrl(rig.host), `http://localhost:${rig.host.port}`)).rejects.toThrow(
      '403',
    );
    await expect(WireClient.connect(wsUrl(rig.host), undefined)).rejects.toThrow('403');
    await expect(WireClient.connect(wsUrl(rig.host, null), rig.host.origin)).rejects.toThrow('403');
    const ok = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    await ok.close();
  });

  it('answers bad messages clearly and keeps the connection', async () => {
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    const notJson = await c.raw('{oops');
    expect(notJson).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining('not JSON') as unknown },
    });
    const noId = await c.raw('{"method":"appInfo"}');
    expect(noId).toMatchObject({ ok: false, error: { message: expect.stringContaining('"id"') as unknown } });
    const unknown = await c.call('rm -rf', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    const badField = await c.call('health', { serverId: '' });
    expect(!badField.ok && badField.error.message).toContain('serverId');
    const info = await c.value<AppInfo>('appInfo');
    expect(info).toMatchObject({ version: '9.9.9', host: 'browser', dataDir: rig.core.dataDir });
    await c.close();
  });

  it('closes a connection that sends more than the message limit', async () => {
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    const closed = new Promise<number>((resolve) =>
      c.ws.once('close', (code: number) => {
        resolve(code);
      }),
    );
    c.ws.send('x'.repeat(13 * 1024 * 1024));
    expect(await closed).toBe(1009);
  });

  it('clientKey gives the public key only; testConnection reaches the server with it, or says why not', async () => {
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    const key = await c.value<ClientKeyInfo>('clientKey');
    expect(key).toEqual(rig.core.clientKey.info);
    expect(JSON.stringify(key)).not.toContain(rig.core.clientKey.keyPair.secretKey);
    const security = securityOf(rig.server);
    const ok = await c.value<ConnectionTestResult>('testConnection', { endpoint: rig.server.bind, security });
    expect(ok).toMatchObject({ outcome: 'ok', serverSecurity: 'curve' });
    const plain = await c.value<ConnectionTestResult>('testConnection', {
      endpoint: rig.server.bind,
      security: { mode: 'plain' },
      timeoutMs: 2000,
    });
    expect(plain.outcome).toBe('server_is_encrypted');
    const bad = await c.call('testConnection', {
      endpoint: rig.server.bind,
      security: { mode: 'curve', serverKey: 'too short' },
    });
    expect(bad.ok).toBe(false);
  });

  it('round-trips servers, spawn, status events, a log tail, output query, control and the queue', async () => {
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    const servers = await c.value<ServerView[]>('listServers');
    expect(servers).toHaveLength(1);
    expect(servers[0]?.status.state).toBe('online');
    const serverId = rig.serverId;

    await c.value('subscribeStatus', { serverId });
    const spawned = await c.value<CommandResult<SpawnResponse>>('spawnAgent', {
      serverId,
      config: {
        ...fixtureAgent('lines.js', {
          WAIT_FOR_GO: '1',
          LINE_DELAY_MS: '5',
          LINES: JSON.stringify([
            ['out', 'alpha ✓'],
            ['err', 'beta'],
            ['out', 'gamma'],
          ]),
        }),
        name: 'tail-me',
      },
    });
    expect(spawned.status).toBe('done');
    if (spawned.status !== 'done') return;
    const agentId = spawned.reply.agent_info?.id ?? '';
    expect(agentId).toMatch(/^[0-9a-f-]{36}$/);

    await waitUntil(
      () =>
        c.events.some((e) => e.name === 'status' && e.payload.updates.some((u) => u.agent_id === agentId))
          ? true
          : undefined,
      { what: 'a status event of the new agent' },
    );

    const { subscriptionId } = await c.value<{ subscriptionId: string }>('tailLogs', { serverId, agentId });
    const go = await c.value<CommandResult<CommandResponse>>('controlAgent', {
      serverId,
      agentId,
      command: 'write_stdin',
      payload: { data: 'go\n' },
    });
    expect(go.status).toBe('done');
    const text = (): string =>
      c.events
        .flatMap((e) =>
          e.name === 'logs' && e.payload.subscriptionId === subscriptionId ? e.payload.chunks : [],
        )
        .map((ch: LogChunkView) => ch.text)
        .join('');
    await waitUntil(() => (text().includes('gamma') ? true : undefined), { what: 'the tailed log lines' });
    expect(text()).toContain('alpha ✓\n');
    expect(text()).toContain('beta\n');

    const q = await c.value<OutputQueryResponse>('queryOutput', {
      serverId,
      agentId,
      stream: 'stdout',
      filter: '^a',
    });
    expect(q.lines).toEqual(['alpha ✓']);

    const stop = await c.value<CommandResult<CommandResponse>>('controlAgent', {
      serverId,
      agentId,
      command: 'stop',
    });
    expect(stop.status).toBe('done');
    await waitUntil(
      () =>
        c.events.some(
          (e) =>
            e.name === 'status' &&
            e.payload.updates.some((u) => u.agent_id === agentId && u.status === 'terminated'),
        )
          ? true
          : undefined,
      { what: 'the terminated status event' },
    );
    // Queue pushes carry the settled commands; history and export see them.
    await waitUntil(
      () =>
        c.events.some(
          (e) =>
            e.name === 'queue' &&
            e.payload.some((cmd) => cmd.id === stop.command.id && cmd.state === 'succeeded'),
        )
          ? true
          : undefined,
      { what: 'a queue event with the stop command succeeded' },
    );
    const history = await c.value<QueuedCommand[]>('history', { serverId });
    expect(history.map((h) => h.id)).toContain(stop.command.id);
    const csv = await c.value<string>('exportHistory', { format: 'csv' });
    expect(csv.split('\r\n')[0]).toContain('id,server_id,kind');
    expect(csv).toContain(stop.command.id);
    expect(await c.value<QueuedCommand[]>('listQueue', {})).toEqual([]);

    // ≤ 20 batches per second per client.
    const b = c.batches;
    for (let i = 1; i < b.length; i++) expect((b[i] ?? 0) - (b[i - 1] ?? 0)).toBeGreaterThanOrEqual(40);
    await c.close();
  });

  it('carries integers above 2^53 as bigint both ways', async () => {
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    // An echo reply holds a u64 the codec decodes as bigint: it must arrive as bigint.
    const r = await c.value<CommandResult<CommandResponse>>('sendAction', {
      serverId: rig.serverId,
      agentId: '00000000-0000-0000-0000-000000000000', // agent-less built-ins take the nil UUID
      action: 'echo',
      params: { big: 2 ** 60 },
    });
    expect(r.status).toBe('done');
    if (r.status !== 'done') return;
    expect((r.reply.data as { big: unknown }).big).toBe(2n ** 60n);
    // A bigint sent in is decoded as one (and refused by the number schema, naming the field).
    const bad = await c.call('listAgents', { serverId: rig.serverId, limit: 5n });
    expect(!bad.ok && bad.error.message).toMatch(/limit.*bigint/);
    await c.close();
  });

  it('releases a client subscriptions when its socket closes', async () => {
    const before = rig.handlers.clientCount();
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    await c.value('subscribeStatus', { serverId: rig.serverId });
    await c.value('tailLogs', { serverId: rig.serverId, agentId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427' });
    expect(rig.handlers.subscriptionCount()).toBe(2);
    expect(rig.handlers.clientCount()).toBe(before + 1);
    await c.close();
    await waitUntil(() => (rig.handlers.clientCount() === before ? true : undefined), {
      what: 'the client to be released',
    });
    expect(rig.handlers.subscriptionCount()).toBe(0);
  });

  it('unsubscribes explicitly and says when a subscription does not exist', async () => {
    const c = await WireClient.connect(wsUrl(rig.host), rig.host.origin);
    const { subscriptionId } = await c.value<{ subscriptionId: string }>('subscribeStatus', {
      serverId: rig.serverId,
    });
    expect(await c.call('unsubscribe', { subscriptionId })).toEqual({ ok: true, value: null });
    const again = await c.call('unsubscribe', { subscriptionId });
    expect(again).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const noServer = await c.call('subscribeStatus', { serverId: 'nope' });
    expect(noServer).toMatchObject({ ok: false, error: { code: 'not_found' } });
    await c.close();
  });
});
