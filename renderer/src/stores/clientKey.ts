/**
 * This console installation's public key, which servers must allow. It does not change while
 * the console runs, so it is fetched once and shared by the servers view, the server cards and
 * the Test connection result; a failed fetch is retried on the next `load`.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { ClientKeyInfo } from '../../../shared/domain/server';
import { getApi } from '../api';
import { applyResult } from '../lib/errors';

export const useClientKeyStore = defineStore('clientKey', () => {
  const info = shallowRef<ClientKeyInfo | null>(null);
  const error = ref<string | null>(null);
  let pending: Promise<void> | null = null;

  /** Fetches the key unless it is already known; concurrent callers share one request. */
  function load(): Promise<void> {
    if (info.value !== null) return Promise.resolve();
    pending ??= (async () => {
      try {
        applyResult(await getApi().clientKey(), error, "Could not read this console's key", (key) => {
          info.value = key;
        });
      } finally {
        pending = null;
      }
    })();
    return pending;
  }

  return { info, error, load };
});
