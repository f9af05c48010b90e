/** Shared test wiring: a fresh Pinia and a fresh FakeApi installed as the renderer's API. */
import { beforeEach, onTestFinished } from 'vitest';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { installApi } from '../../../renderer/src/api';
import { FakeApi } from './fakeApi';

export function freshApp(): { fake: FakeApi; pinia: Pinia } {
  const fake = new FakeApi();
  installApi(fake.api());
  const pinia = createPinia();
  setActivePinia(pinia);
  return { fake, pinia };
}

/** What {@link withFreshAgent} sets up before each test. */
export interface FreshAgent {
  fake: FakeApi;
  pinia: Pinia;
  serverId: string;
  agentId: string;
  /** `{ serverId, agentId }`, as inputs and props take them. */
  ids: { serverId: string; agentId: string };
}

/**
 * Before each test of the calling suite: a fresh app with one server holding one agent. The
 * returned object is refilled before each test (read its fields inside the tests).
 */
export function withFreshAgent(): FreshAgent {
  const ctx = {} as FreshAgent;
  beforeEach(() => {
    const { fake, pinia } = freshApp();
    const serverId = fake.addServer('s');
    const agentId = fake.addAgents(serverId, 1)[0]?.id ?? '';
    Object.assign(ctx, { fake, pinia, serverId, agentId, ids: { serverId, agentId } });
  });
  return ctx;
}

/** Lets pending promise callbacks run. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/**
 * Animation frames that run only when the test says so: replaces `requestAnimationFrame` (which
 * the stores' frame batching uses) until the end of the calling test.
 */
export function manualFrames(): { run: () => void; pending: () => number } {
  let queue = new Map<number, FrameRequestCallback>();
  let nextHandle = 1;
  const original = { request: globalThis.requestAnimationFrame, cancel: globalThis.cancelAnimationFrame };
  globalThis.requestAnimationFrame = (callback) => {
    const handle = nextHandle++;
    queue.set(handle, callback);
    return handle;
  };
  globalThis.cancelAnimationFrame = (handle) => {
    queue.delete(handle);
  };
  onTestFinished(() => {
    globalThis.requestAnimationFrame = original.request;
    globalThis.cancelAnimationFrame = original.cancel;
  });
  return {
    run() {
      const due = queue;
      queue = new Map();
      for (const callback of due.values()) callback(performance.now());
    },
    pending: () => queue.size,
  };
}
