/** Shared test wiring: a fresh Pinia and a fresh FakeApi installed as the renderer's API. */
import type { VueWrapper } from '@vue/test-utils';
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

/**
 * Before each test of the calling suite, the fields of a fresh `make()` refill the returned
 * object (read its fields inside the tests, not when the suite is declared).
 */
export function beforeEachFresh<T extends object>(make: () => T): T {
  const ctx = {} as T;
  beforeEach(() => {
    Object.assign(ctx, make());
  });
  return ctx;
}

/** Before each test of the calling suite: a fresh app (see {@link beforeEachFresh}). */
export function withFreshApp(): ReturnType<typeof freshApp> {
  return beforeEachFresh(freshApp);
}

/** What {@link withFreshServer} sets up before each test. */
export interface FreshServer {
  fake: FakeApi;
  pinia: Pinia;
  serverId: string;
}

function freshServer(): FreshServer {
  const { fake, pinia } = freshApp();
  return { fake, pinia, serverId: fake.addServer('s') };
}

/** Before each test of the calling suite: a fresh app with one server and no agent. */
export function withFreshServer(): FreshServer {
  return beforeEachFresh(freshServer);
}

/** What {@link withFreshAgent} sets up before each test. */
export interface FreshAgent extends FreshServer {
  agentId: string;
  /** `{ serverId, agentId }`, as inputs and props take them. */
  ids: { serverId: string; agentId: string };
}

/** Before each test of the calling suite: a fresh app with one server holding one agent. */
export function withFreshAgent(): FreshAgent {
  return beforeEachFresh(() => {
    const { fake, pinia, serverId } = freshServer();
    const agentId = fake.addAgents(serverId, 1)[0]?.id ?? '';
    return { fake, pinia, serverId, agentId, ids: { serverId, agentId } };
  });
}

/** Lets pending promise callbacks run. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Types each value into the field with that test id, in order. */
export async function fillFields(wrapper: VueWrapper, values: Record<string, string>): Promise<void> {
  for (const [testid, value] of Object.entries(values)) {
    await wrapper.get(`[data-testid="${testid}"]`).setValue(value);
  }
}

/** Submits the form with that test id and lets the handler's promises run. */
export async function submitForm(wrapper: VueWrapper, testid: string): Promise<void> {
  await wrapper.get(`[data-testid="${testid}"]`).trigger('submit');
  await settle();
}

/**
 * Animation frames that run only when the test says so: replaces `requestAnimationFrame` (which
 * the stores' frame batching uses) until the end of the calling test.
 */
export function manualFrames(): { run: (count?: number) => void; pending: () => number } {
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
    /** Runs `count` frames: each runs the callbacks requested before it began. */
    run(count = 1) {
      for (let i = 0; i < count; i++) {
        const due = queue;
        queue = new Map();
        for (const callback of due.values()) callback(performance.now());
      }
    },
    pending: () => queue.size,
  };
}
