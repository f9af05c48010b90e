import { onBeforeUnmount, ref, type Ref } from 'vue';

/** How the last copy went: `copied` for a few seconds after success, `failed` until the next try. */
export type CopyStatus = 'idle' | 'copied' | 'failed';

/**
 * Copies text to the clipboard and says how it went. The clipboard API can be missing or refuse
 * (no secure context, no permission, the browser host on plain http): then `fallback` runs (for
 * example, selecting the text so the operator can press Ctrl+C) and the status is `failed`, so
 * copying never silently does nothing. `copied` returns to `idle` after 2.5 s.
 */
export function useClipboard(): {
  status: Ref<CopyStatus>;
  copy: (text: string, fallback?: () => void) => Promise<void>;
} {
  const status = ref<CopyStatus>('idle');
  let resetTimer: ReturnType<typeof setTimeout> | null = null;

  async function copy(text: string, fallback?: () => void): Promise<void> {
    if (resetTimer !== null) clearTimeout(resetTimer);
    try {
      // `navigator.clipboard` is undefined outside secure contexts: that lands in catch too.
      await navigator.clipboard.writeText(text);
      status.value = 'copied';
      resetTimer = setTimeout(() => {
        status.value = 'idle';
        resetTimer = null;
      }, 2500);
    } catch {
      status.value = 'failed';
      fallback?.();
    }
  }

  onBeforeUnmount(() => {
    if (resetTimer !== null) clearTimeout(resetTimer);
  });
  return { status, copy };
}
