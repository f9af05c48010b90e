/**
 * The one gate in front of destructive controls (stop, kill, and their batch and shortcut
 * forms): every caller asks here, a dialog answers, and "don't ask again for this session"
 * is remembered per command until the page is reloaded. No API calls.
 */
import { defineStore } from 'pinia';
import { shallowRef } from 'vue';

/** Commands that end agents and therefore ask first. */
export type DestructiveCommand = 'stop' | 'kill';

/** One agent a destructive command would act on. */
export interface ConfirmTarget {
  readonly id: string;
  readonly name: string;
  /** The server's name, when the targets span several servers. */
  readonly serverName?: string;
}

/** What the operator is asked to confirm. */
export interface ConfirmRequest {
  readonly command: DestructiveCommand;
  readonly targets: readonly ConfirmTarget[];
}

interface Pending extends ConfirmRequest {
  readonly settle: (confirmed: boolean) => void;
}

export const useConfirmStore = defineStore('confirm', () => {
  /** The question on screen, or null. */
  const pending = shallowRef<Pending | null>(null);
  /** Commands the operator said not to ask about again, for this page's lifetime. */
  const skipped = new Set<DestructiveCommand>();

  /**
   * Asks the operator to confirm `request`. Resolves true at once, for a single agent, when they
   * chose "don't ask again" for this command earlier in the session, false when they cancel (or a newer question
   * replaces this one), true when they confirm.
   */
  function ask(request: ConfirmRequest): Promise<boolean> {
    // The waiver covers one agent at a time: a batch or fleet-wide stop always asks.
    if (skipped.has(request.command) && request.targets.length <= 1) return Promise.resolve(true);
    pending.value?.settle(false);
    return new Promise((resolve) => {
      pending.value = { ...request, settle: resolve };
    });
  }

  /** The dialog's answer; `dontAskAgain` only counts with a confirmation. */
  function answer(confirmed: boolean, dontAskAgain = false): void {
    const current = pending.value;
    if (current === null) return;
    pending.value = null;
    if (confirmed && dontAskAgain) skipped.add(current.command);
    current.settle(confirmed);
  }

  return { pending, ask, answer };
});
