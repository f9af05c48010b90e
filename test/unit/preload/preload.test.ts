import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CHANNEL_NAMES,
  channelOf,
  EVENT_CHANNEL,
  type ConsoleApi,
  type ConsoleEventEnvelope,
} from '../../../shared/ipc';
import { buildPreload } from '../../../scripts/build';
import { electron, resetElectron } from '../main/electron/electronStandIn';

vi.mock('electron', async () => (await import('../main/electron/electronStandIn')).electron);

/** Loads the real preload module against a fresh stand-in and returns what it exposed. */
async function loadPreload(): Promise<ConsoleApi> {
  resetElectron();
  // Re-evaluates the preload; the mocked 'electron' stays the same (reset) stand-in.
  vi.resetModules();
  await import('../../../preload/preload');
  expect([...electron.contextBridge.exposed.keys()]).toEqual(['descartes']);
  return electron.contextBridge.exposed.get('descartes') as ConsoleApi;
}

describe('preload', () => {
  let api: ConsoleApi;
  beforeEach(async () => {
    api = await loadPreload();
  });

  it('exposes exactly the contract: one method per channel plus on', () => {
    expect(Object.keys(api).sort()).toEqual([...CHANNEL_NAMES, 'on'].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('leaks neither ipcRenderer nor its methods', () => {
    const values: unknown[] = Object.values(api);
    const ipc = electron.ipcRenderer;
    const methods: unknown[] = ['invoke', 'on', 'removeListener'].map(
      (m): unknown => Reflect.get(ipc, m) as unknown,
    );
    for (const forbidden of [ipc, ...methods]) expect(values).not.toContain(forbidden);
    // Nothing hidden either: no symbols, no non-enumerable extras, a plain prototype.
    expect(Reflect.ownKeys(api).sort()).toEqual([...CHANNEL_NAMES, 'on'].sort());
    expect(Object.getPrototypeOf(api)).toBe(Object.prototype);
  });

  it('forwards each method to its own channel with exactly its one input', async () => {
    for (const [i, name] of CHANNEL_NAMES.entries()) {
      const input = { probe: i };
      // A second argument must not reach main.
      const method = api[name] as (input?: unknown, extra?: unknown) => Promise<unknown>;
      await expect(method(input, 'smuggled')).resolves.toEqual({ ok: true, value: channelOf(name) });
      expect(electron.ipcRenderer.invokes.at(-1)).toEqual({ channel: channelOf(name), args: [input] });
    }
    expect(electron.ipcRenderer.invokes).toHaveLength(CHANNEL_NAMES.length);
  });

  it('turns a main process without handlers into an internal IpcResult instead of a rejection', async () => {
    electron.ipcRenderer.reply = (channel) =>
      Promise.reject(new Error(`No handler registered for '${channel}'`));
    const result = await api.listServers();
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('internal');
      expect(result.error.message).toContain('listServers');
      expect(result.error.message).toContain('restart');
    }
  });

  it('dispatches each envelope of a batch to the handlers of its name, in order, with the payload only', () => {
    const queue: unknown[][] = [];
    const notes: unknown[][] = [];
    api.on('queue', (...args: unknown[]) => queue.push(args));
    api.on('notification', (...args: unknown[]) => notes.push(args));
    expect(electron.ipcRenderer.onCalls).toEqual([EVENT_CHANNEL]);
    const note = { level: 'error', title: 't', body: 'b' } as const;
    const batch: ConsoleEventEnvelope[] = [
      { name: 'queue', payload: [] },
      { name: 'notification', payload: note },
      { name: 'resync', payload: { serverId: 's', reason: 'r' } },
      { name: 'queue', payload: [] },
    ];
    electron.ipcRenderer.deliver(EVENT_CHANNEL, batch);
    expect(queue).toEqual([[[]], [[]]]);
    expect(notes).toEqual([[note]]);
  });

  it('ignores malformed batches and keeps delivering after a handler throws', () => {
    const seen: unknown[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    api.on('resync', () => {
      throw new Error('broken view');
    });
    api.on('resync', (p) => seen.push(p));
    electron.ipcRenderer.deliver(EVENT_CHANNEL, 'not a batch');
    electron.ipcRenderer.deliver(EVENT_CHANNEL, [
      null,
      42,
      { payload: 1 },
      { name: 'resync', payload: 'ok' },
    ]);
    expect(seen).toEqual(['ok']);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('unsubscribes one handler, and drops the IPC listener when none is left', () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = api.on('servers', (p) => a.push(p));
    const offB = api.on('servers', (p) => b.push(p));
    expect(electron.ipcRenderer.onCalls).toHaveLength(1);
    offA();
    offA();
    electron.ipcRenderer.deliver(EVENT_CHANNEL, [{ name: 'servers', payload: [] }]);
    expect(a).toHaveLength(0);
    expect(b).toHaveLength(1);
    offB();
    expect(electron.ipcRenderer.listeners.get(EVENT_CHANNEL)).toEqual([]);
    electron.ipcRenderer.deliver(EVENT_CHANNEL, [{ name: 'servers', payload: [] }]);
    expect(b).toHaveLength(1);
    api.on('servers', (p) => b.push(p));
    expect(electron.ipcRenderer.onCalls).toHaveLength(2);
  });

  it('refuses unknown event names and non-function handlers', () => {
    expect(() => api.on('nope' as 'queue', () => undefined)).toThrow(/Unknown console event "nope"/);
    expect(() => api.on('queue', 'x' as unknown as () => void)).toThrow(/must be a function/);
  });
});

describe('preload bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'descartes-preload-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is one file that requires only electron and inlines no zod', async () => {
    const outfile = join(dir, 'preload.cjs');
    const report = await buildPreload(outfile);
    const code = readFileSync(outfile, 'utf8');
    expect([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1])).toEqual(['electron']);
    expect(report.inputs.every((p) => /^(preload|shared\/ipc)\//.test(p))).toBe(true);
    expect(report.inputs).not.toContain('shared/ipc/schemas.ts');
    expect(code).not.toMatch(/zod|ZodError/);
    for (const name of CHANNEL_NAMES) expect(code).toContain(`"${name}"`);
  });
});
