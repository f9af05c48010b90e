import { describe, expect, it } from 'vitest';
import {
  serverFormFor,
  useServersStore,
  validateServerForm,
  type ServerForm,
} from '../../../../renderer/src/stores/servers';
import { CurveKeyError, parseCurveKey } from '../../../../shared/domain/curveKey';
import { CURVE, PLAIN, SERVER_KEY, connectionTest, serverStatus } from '../fakeApi';
import { withFreshApp } from '../setup';

/** What the shared key parser says about `text`. */
function keyError(text: string): string {
  try {
    parseCurveKey(text, 'server key');
  } catch (e) {
    if (e instanceof CurveKeyError) return e.message;
  }
  throw new Error(`${text} parsed as a key`);
}

/** A form with a valid pinned key, overridden per test. */
function form(over: Partial<ServerForm> = {}): ServerForm {
  return {
    name: 'a',
    endpoint: 'tcp://h:1',
    heartbeatIntervalMs: '',
    securityMode: 'curve',
    serverKey: SERVER_KEY,
    plainConfirmed: false,
    ...over,
  };
}

describe('servers store', () => {
  const ctx = withFreshApp();

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
    const result = await store.add(form({ name: ' ', endpoint: 'http://x' }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.name).toBe('name is required');
      expect(result.errors.endpoint).toBe('endpoint must look like tcp://host:port');
    }
    expect(ctx.fake.callsOf('addServer')).toHaveLength(0);
    expect(validateServerForm(form({ heartbeatIntervalMs: 'abc' }))).toMatchObject({
      ok: false,
      errors: { heartbeatIntervalMs: expect.stringContaining('milliseconds') as string },
    });
    expect(validateServerForm(form({ heartbeatIntervalMs: '50' })).ok).toBe(false);
  });

  it('adds, edits and removes through the API', async () => {
    const store = useServersStore();
    await store.start();
    expect(
      await store.add(form({ name: 'lab', endpoint: 'tcp://10.0.0.2:5555', heartbeatIntervalMs: '2000' })),
    ).toEqual({ ok: true });
    expect(ctx.fake.callsOf('addServer')).toEqual([
      { name: 'lab', endpoint: 'tcp://10.0.0.2:5555', heartbeatIntervalMs: 2000, security: CURVE },
    ]);
    const id = store.servers[0]?.profile.id ?? '';
    expect(
      await store.update(
        id,
        form({ name: 'lab 2', endpoint: 'tcp://10.0.0.2:5555', securityMode: 'plain', plainConfirmed: true }),
      ),
    ).toEqual({ ok: true });
    expect(store.servers[0]?.profile).toMatchObject({ name: 'lab 2', security: PLAIN });
    expect(await store.remove(id, true)).toBeNull();
    expect(ctx.fake.callsOf('removeServer')).toEqual([{ serverId: id, cancelPending: true }]);
    expect(store.servers).toHaveLength(0);
  });

  it('turns an API error into a sentence with a next step', async () => {
    const store = useServersStore();
    const error = await store.update('no-such-server', form({ name: 'x' }));
    expect(error).toEqual({
      ok: false,
      errors: {
        _: expect.stringMatching(/^Could not save the server: No server no-such-server\. Refresh/) as string,
      },
    });
  });

  it('needs a well-formed server key for an encrypted profile, and names what is wrong', () => {
    const empty = validateServerForm(form({ serverKey: '' }));
    expect(empty).toEqual({
      ok: false,
      errors: { serverKey: expect.stringContaining('npm run server -- key') as string },
    });
    // The message is the shared parser's, so the form and the server's `allow` say the same.
    expect(validateServerForm(form({ serverKey: SERVER_KEY.slice(1) }))).toEqual({
      ok: false,
      errors: { serverKey: keyError(SERVER_KEY.slice(1)) },
    });
    expect(keyError(SERVER_KEY.slice(1))).toContain('got 39');
    // Whitespace around a pasted key is not part of it.
    expect(validateServerForm(form({ serverKey: ` ${SERVER_KEY}\n` }))).toMatchObject({
      ok: true,
      input: { security: CURVE },
    });
    // Every field says what is wrong at once, not one after the other.
    expect(validateServerForm(form({ name: '', serverKey: 'x' }))).toMatchObject({
      ok: false,
      errors: { name: 'name is required', serverKey: expect.stringContaining('got 1') as string },
    });
  });

  it('makes a plain profile only when plain is chosen and confirmed', () => {
    expect(validateServerForm(form({ securityMode: 'plain', plainConfirmed: false }))).toEqual({
      ok: false,
      errors: { plainConfirmed: expect.stringContaining('without encryption') as string },
    });
    expect(validateServerForm(form({ securityMode: 'plain', plainConfirmed: true }))).toMatchObject({
      ok: true,
      input: { security: PLAIN },
    });
    // The confirmation alone does not make a profile plain: the mode decides.
    expect(validateServerForm(form({ plainConfirmed: true }))).toMatchObject({
      ok: true,
      input: { security: CURVE },
    });
  });

  it('fills the form from a profile: encrypted by default, a plain profile stays confirmed', () => {
    expect(serverFormFor(null)).toMatchObject({
      securityMode: 'curve',
      serverKey: '',
      plainConfirmed: false,
    });
    const base = { id: 'x', name: 'n', endpoint: 'tcp://h:1', heartbeatIntervalMs: 2000, embedded: false };
    expect(serverFormFor({ ...base, security: CURVE })).toMatchObject({
      securityMode: 'curve',
      serverKey: SERVER_KEY,
      heartbeatIntervalMs: '2000',
    });
    expect(serverFormFor({ ...base, security: PLAIN })).toMatchObject({
      securityMode: 'plain',
      serverKey: '',
      plainConfirmed: true,
    });
  });

  it('tests a connection with the form’s endpoint and security, without a name', async () => {
    const store = useServersStore();
    ctx.fake.nextTest = connectionTest('key_not_allowed');
    const answer = await store.testConnection(form({ name: '', endpoint: ' tcp://10.0.0.9:5555 ' }));
    expect(answer).toEqual({ ok: true, result: ctx.fake.nextTest, tested: CURVE });
    expect(ctx.fake.callsOf('testConnection')).toEqual([
      { endpoint: 'tcp://10.0.0.9:5555', security: CURVE },
    ]);

    expect(await store.testConnection(form({ endpoint: 'nope', serverKey: '' }))).toEqual({
      ok: false,
      errors: {
        endpoint: 'endpoint must look like tcp://host:port',
        serverKey: expect.stringContaining('required') as string,
      },
    });
    expect(await store.testConnection(form({ securityMode: 'plain' }))).toMatchObject({
      ok: false,
      errors: { plainConfirmed: expect.any(String) as string },
    });
    expect(ctx.fake.callsOf('testConnection')).toHaveLength(1);
  });
});
