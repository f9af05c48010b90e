/** Shared test wiring: a fresh Pinia and a fresh FakeApi installed as the renderer's API. */
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

/** Lets pending promise callbacks run. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** A scheduler whose frames run only when the test says so. */
export function manualFrames(): {
  schedule: (cb: () => void) => () => void;
  run: () => void;
  pending: () => number;
} {
  let queue: (() => void)[] = [];
  return {
    schedule(cb) {
      queue.push(cb);
      return () => {
        queue = queue.filter((q) => q !== cb);
      };
    },
    run() {
      const q = queue;
      queue = [];
      for (const cb of q) cb();
    },
    pending: () => queue.length,
  };
}
