import { beforeEach, describe, expect, it } from 'vitest';
import { useServersStore, validateServerForm } from '../../../../renderer/src/stores/servers';
import { serverStatus } from '../fakeApi';
import { freshApp } from '../setup';

describe('servers store', () => {
  let ctx: ReturnType<typeof freshApp>;
  beforeEach(() => {
    ctx = freshApp();
  });

  it('loads the list and applies pushed server states', async () => {
    const id = ctx.fake.addServer('build farm');
    const store = useServersStore();
    await store.start();
    expect(store.servers.map((s) => s.profile.name)).toEqual(['build farm']);
    expect(store.appInfo?.host).toBe('browser');
    ctx.fake.emit('servers', [
      serverStatus(id, { state: 'offline', lastError: 'connection refused', pendingCommands: 3 }),
    ]);
    expect(store.byId.get(id)?.status).toMatchObject({ state: 'offline', pendingCommands: 3 });
    store.stop();
    expect(ctx.fake.listenerCount('servers')).toBe(0);
  });

  it('validates with the contract schema and names the field', async () => {
    const store = useServersStore();
    const result = await store.add({ name: ' ', endpoint: 'http://x', heartbeatIntervalMs: '' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.name).toBe('name is required');
      expect(result.errors.endpoint).toBe('endpoint must look like tcp://host:port');
    }
    expect(ctx.fake.callsOf('addServer')).toHaveLength(0);
    expect(
      validateServerForm({ name: 'a', endpoint: 'tcp://h:1', heartbeatIntervalMs: 'abc' }),
    ).toMatchObject({
      ok: false,
      errors: { heartbeatIntervalMs: expect.stringContaining('milliseconds') as string },
    });
    expect(validateServerForm({ name: 'a', endpoint: 'tcp://h:1', heartbeatIntervalMs: '50' }).ok).toBe(
      false,
    );
  });

  it('adds, edits and removes through the API', async () => {
    const store = useServersStore();
    await store.start();
    expect(
      await store.add({ name: 'lab', endpoint: 'tcp://10.0.0.2:5555', heartbeatIntervalMs: '2000' }),
    ).toEqual({ ok: true });
    expect(ctx.fake.callsOf('addServer')).toEqual([
      { name: 'lab', endpoint: 'tcp://10.0.0.2:5555', heartbeatIntervalMs: 2000 },
    ]);
    const id = store.servers[0]?.profile.id ?? '';
    expect(
      await store.update(id, { name: 'lab 2', endpoint: 'tcp://10.0.0.2:5555', heartbeatIntervalMs: '' }),
    ).toEqual({ ok: true });
    expect(store.servers[0]?.profile.name).toBe('lab 2');
    expect(await store.remove(id, true)).toBeNull();
    expect(ctx.fake.callsOf('removeServer')).toEqual([{ serverId: id, cancelPending: true }]);
    expect(store.servers).toHaveLength(0);
  });

  it('turns an API error into a sentence with a next step', async () => {
    const store = useServersStore();
    const error = await store.update('no-such-server', {
      name: 'x',
      endpoint: 'tcp://h:1',
      heartbeatIntervalMs: '',
    });
    expect(error).toEqual({
      ok: false,
      errors: {
        _: expect.stringMatching(/^Could not save the server: No server no-such-server\. Refresh/) as string,
      },
    });
  });
});
