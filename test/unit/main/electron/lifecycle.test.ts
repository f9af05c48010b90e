import type { App, BrowserWindow } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  claimSingleInstance,
  installQuitHandler,
  runWithTimeout,
  type ShutdownOutcome,
} from '../../../../main/electron/lifecycle';
import type { FakeBrowserWindow } from './electronStandIn';
import { electron, resetElectron } from './electronStandIn';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

const asApp = (): App => electron.app as unknown as App;

/** Resolves once `app.exit` has been called (polling: the quit handler exits asynchronously). */
async function exited(): Promise<number> {
  for (;;) {
    const code = electron.app.exitCodes[0];
    if (code !== undefined) return code;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('single instance', () => {
  beforeEach(() => {
    resetElectron();
  });

  it('quits at once when another instance holds the lock', () => {
    electron.app.lockGranted = false;
    expect(claimSingleInstance(asApp(), () => null)).toBe(false);
    expect(electron.app.quitCalls).toBe(1);
    expect(electron.app.listenerCount('second-instance')).toBe(0);
  });

  it('focuses (and restores) the existing window when a second instance starts', () => {
    const win = new electron.BrowserWindow({});
    win.minimized = true;
    expect(claimSingleInstance(asApp(), () => win as unknown as BrowserWindow)).toBe(true);
    expect(electron.app.quitCalls).toBe(0);
    electron.app.emit('second-instance', {}, ['descartes'], '/');
    expect(win.restored).toBe(1);
    expect(win.focused).toBe(1);
    expect(win.shown).toBe(1);
  });

  it('ignores a second instance while no window is open', () => {
    let current: FakeBrowserWindow | null = null;
    claimSingleInstance(asApp(), () => current as unknown as BrowserWindow | null);
    expect(() => {
      electron.app.emit('second-instance', {}, [], '/');
    }).not.toThrow();
    current = new electron.BrowserWindow({});
    current.close();
    electron.app.emit('second-instance', {}, [], '/');
    expect(current.focused).toBe(0);
  });
});

describe('quit', () => {
  beforeEach(() => {
    resetElectron();
  });

  it('holds the quit, runs the shutdown once, then exits', async () => {
    const outcomes: ShutdownOutcome[] = [];
    let release!: () => void;
    const shutdown = vi.fn(() => new Promise<void>((r) => (release = r)));
    installQuitHandler(asApp(), { shutdown, timeoutMs: 5000, onOutcome: (o) => outcomes.push(o) });
    expect(electron.app.beforeQuit().defaultPrevented).toBe(true);
    // A second Cmd+Q while flushing neither cuts it short nor starts another shutdown.
    expect(electron.app.beforeQuit().defaultPrevented).toBe(true);
    expect(shutdown).toHaveBeenCalledTimes(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(electron.app.exitCodes).toEqual([]);
    release();
    expect(await exited()).toBe(0);
    expect(outcomes).toEqual([{ kind: 'done' }]);
  });

  it('cuts a slow shutdown off at the timeout and exits anyway', async () => {
    const outcomes: ShutdownOutcome[] = [];
    installQuitHandler(asApp(), {
      shutdown: () => new Promise<void>(() => undefined),
      timeoutMs: 150,
      onOutcome: (o) => outcomes.push(o),
    });
    const started = performance.now();
    electron.app.beforeQuit();
    expect(await exited()).toBe(0);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1500);
    expect(outcomes).toEqual([{ kind: 'timeout', afterMs: 150 }]);
  });

  it('exits even when the shutdown throws', async () => {
    const outcomes: ShutdownOutcome[] = [];
    installQuitHandler(asApp(), {
      shutdown: () => Promise.reject(new Error('disk gone')),
      onOutcome: (o) => outcomes.push(o),
    });
    electron.app.beforeQuit();
    expect(await exited()).toBe(0);
    expect(outcomes[0]?.kind).toBe('failed');
  });

  it('runWithTimeout reports done, failed and timeout and never rejects', async () => {
    await expect(runWithTimeout(() => Promise.resolve(), 100)).resolves.toEqual({ kind: 'done' });
    await expect(runWithTimeout(() => Promise.reject(new Error('x')), 100)).resolves.toMatchObject({
      kind: 'failed',
    });
    await expect(runWithTimeout(() => new Promise(() => undefined), 30)).resolves.toEqual({
      kind: 'timeout',
      afterMs: 30,
    });
  });
});
