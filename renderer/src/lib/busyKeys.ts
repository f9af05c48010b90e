import type { Ref } from 'vue';

/**
 * Runs `work` with `busy.value[key]` set to `value` until it settles (resolves or rejects), for
 * the spinners of whatever is keyed by `key`. The record is replaced, not mutated, so a `ref`
 * holding it notifies its readers.
 */
export async function whileBusy<V, T>(
  busy: Ref<Record<string, V>>,
  key: string,
  value: V,
  work: () => Promise<T>,
): Promise<T> {
  busy.value = { ...busy.value, [key]: value };
  try {
    return await work();
  } finally {
    const { [key]: _done, ...rest } = busy.value;
    busy.value = rest;
  }
}
