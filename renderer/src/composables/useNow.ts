import { onScopeDispose, ref, type Ref } from 'vue';

/** The current time in ms, updated every `intervalMs` while the calling component lives ("N s ago" labels). */
export function useNow(intervalMs = 1000): Ref<number> {
  const now = ref(Date.now());
  const timer = setInterval(() => {
    now.value = Date.now();
  }, intervalMs);
  onScopeDispose(() => {
    clearInterval(timer);
  });
  return now;
}
