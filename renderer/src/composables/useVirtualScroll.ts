import { computed, onMounted, onScopeDispose, ref, type Ref } from 'vue';
import { computeWindow, scrollTopForRow, type VirtualWindow } from '../lib/virtualWindow';

export interface VirtualScroll {
  readonly window: Readonly<Ref<VirtualWindow>>;
  /** Binds the scroll container (VirtualViewport does, as its root's function ref). */
  setContainer(el: Element | null): void;
  readonly viewportHeight: Ref<number>;
  /** Call from the container's `scroll` event. */
  onScroll(): void;
  /** Scrolls so row `index` is at the top ('start') or bottom ('end'). */
  scrollToRow(index: number, align?: 'start' | 'end'): void;
  /** True when the last row is in view. */
  readonly atBottom: Readonly<Ref<boolean>>;
}

/**
 * Fixed-row-height virtual scrolling of `count` rows inside a container (a VirtualViewport
 * bound to the result): only the rows in view (plus overscan) are rendered. `fallbackHeight` is
 * used while the container has no layout (before mount, or in a DOM without layout such as tests).
 */
export function useVirtualScroll(
  count: Readonly<Ref<number>>,
  rowHeight: number,
  fallbackHeight = 600,
): VirtualScroll {
  const container = ref<HTMLElement | null>(null);
  const scrollTop = ref(0);
  const viewportHeight = ref(fallbackHeight);

  const measure = (): void => {
    const el = container.value;
    if (el && el.clientHeight > 0) viewportHeight.value = el.clientHeight;
  };

  let observer: ResizeObserver | null = null;
  onMounted(() => {
    measure();
    if (typeof ResizeObserver === 'function' && container.value) {
      observer = new ResizeObserver(measure);
      observer.observe(container.value);
    }
  });
  onScopeDispose(() => observer?.disconnect());

  const win = computed(() =>
    computeWindow({
      count: count.value,
      rowHeight,
      scrollTop: scrollTop.value,
      viewportHeight: viewportHeight.value,
    }),
  );
  const atBottom = computed(
    () => scrollTop.value + viewportHeight.value >= win.value.totalHeight - rowHeight,
  );

  return {
    window: win,
    setContainer(el) {
      container.value = el instanceof HTMLElement ? el : null;
    },
    viewportHeight,
    atBottom,
    onScroll() {
      const el = container.value;
      if (el) scrollTop.value = el.scrollTop;
    },
    scrollToRow(index, align = 'start') {
      const top = scrollTopForRow(index, count.value, rowHeight, viewportHeight.value, align);
      const el = container.value;
      if (el) el.scrollTop = top;
      scrollTop.value = top;
    },
  };
}
