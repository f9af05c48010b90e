/**
 * "Follow" for a virtualized log: the newest line stays in view as lines arrive, and follow
 * turns off only when the operator scrolls up — a wheel-up, an up key or a pointer held on the
 * viewport (a scrollbar drag). A scroll the browser makes by itself (content growth, or clamping
 * a scroll set before the spacer grew) is undone by pinning to the bottom again. Shared by the
 * one-agent output viewer and the merged log, so both follow alike.
 */
import { nextTick, watch, type Ref } from 'vue';
import type { VirtualScroll } from './useVirtualScroll';

/** Keys that scroll a focused viewport up: pressing one is the operator leaving the tail. */
const UP_KEYS = new Set(['ArrowUp', 'PageUp', 'Home']);

export interface FollowScroll {
  /** Bind to the viewport's `scroll`, `wheel` (passive), `keydown` and `pointerdown`. */
  readonly onScroll: () => void;
  readonly onWheel: (event: WheelEvent) => void;
  readonly onKeydown: (event: KeyboardEvent) => void;
  readonly onPointerdown: () => void;
  /** Scrolls to the newest line (no-op when there is none). */
  readonly scrollToBottom: () => void;
  /** Turns follow on (and jumps to the newest line) or off. */
  readonly follow: (on: boolean) => void;
}

/**
 * @param total lines in the log
 * @param following whether follow is on (the store's)
 * @param setFollowing the store's setter
 * @param pin whether this composable keeps the newest line in view as lines arrive (false when
 *   the caller's own post-flush watch does it, as the paged output viewer's does)
 */
export function useFollowScroll(
  scroll: VirtualScroll,
  total: Readonly<Ref<number>>,
  following: Readonly<Ref<boolean>>,
  setFollowing: (on: boolean) => void,
  pin = true,
): FollowScroll {
  /** Set by wheel-up or an up key; consumed by the next scroll. */
  let userScrolling = false;
  let pointerHeld = false;

  function scrollToBottom(): void {
    if (total.value > 0) scroll.scrollToRow(total.value - 1, 'end');
  }

  if (pin) {
    // After the DOM update (`post`): set before the spacer grows, the browser would clamp the
    // scroll short of the new bottom and the resulting scroll event would look like a user's.
    watch(
      () => [total.value, following.value] as const,
      ([count, on]) => {
        if (on && count > 0 && !scroll.atBottom.value) scrollToBottom();
      },
      { flush: 'post' },
    );
  }

  return {
    onWheel: (event) => {
      if (event.deltaY < 0) userScrolling = true;
    },
    onKeydown: (event) => {
      if (UP_KEYS.has(event.key)) userScrolling = true;
    },
    onPointerdown: () => {
      pointerHeld = true; // dragging the scrollbar (or selecting text past the top edge)
      window.addEventListener(
        'pointerup',
        () => {
          pointerHeld = false;
        },
        { once: true },
      );
    },
    onScroll: () => {
      const byUser = userScrolling || pointerHeld;
      userScrolling = false;
      if (following.value) {
        if (scroll.atBottom.value) return;
        if (byUser) setFollowing(false);
        else void nextTick(scrollToBottom);
      } else if (byUser && scroll.atBottom.value && total.value > 0) {
        setFollowing(true);
      }
    },
    scrollToBottom,
    follow: (on) => {
      setFollowing(on);
      if (on) scrollToBottom();
    },
  };
}
