/**
 * The arithmetic of a fixed-row-height virtual list. Browsers cap an element's height (about
 * 33 million px in Chromium, less elsewhere), so beyond {@link MAX_SCROLL_HEIGHT} the scroll
 * range is scaled: the scrollbar maps proportionally onto the rows.
 */

/** Tallest spacer we create, in px. Safely below every browser's element height limit. */
export const MAX_SCROLL_HEIGHT = 8_000_000;

export interface WindowInput {
  /** Number of rows. */
  readonly count: number;
  /** Height of one row in px (> 0). */
  readonly rowHeight: number;
  /** The scroll container's `scrollTop` in px. */
  readonly scrollTop: number;
  /** The scroll container's client height in px. */
  readonly viewportHeight: number;
  /** Extra rows rendered above and below the viewport. */
  readonly overscan?: number;
}

export interface VirtualWindow {
  /** First rendered row (inclusive). */
  readonly start: number;
  /** Last rendered row (exclusive). */
  readonly end: number;
  /** Where the first rendered row goes, in px from the top of the spacer. */
  readonly offsetTop: number;
  /** Height of the spacer in px (≤ MAX_SCROLL_HEIGHT). */
  readonly totalHeight: number;
}

/** Spacer height for `count` rows. */
export const spacerHeight = (count: number, rowHeight: number): number =>
  Math.min(count * rowHeight, MAX_SCROLL_HEIGHT);

/** The rows to render for a scroll position. Rendering only `end - start` rows keeps the DOM small. */
export function computeWindow(input: WindowInput): VirtualWindow {
  const { count, rowHeight } = input;
  const overscan = input.overscan ?? 8;
  const viewport = Math.max(0, input.viewportHeight);
  const realHeight = count * rowHeight;
  const totalHeight = spacerHeight(count, rowHeight);
  const maxScroll = Math.max(0, totalHeight - viewport);
  const scrollTop = Math.min(Math.max(0, input.scrollTop), maxScroll);
  // Position within the real (unscaled) content.
  const virtualTop =
    realHeight === totalHeight || maxScroll === 0
      ? scrollTop
      : (scrollTop / maxScroll) * Math.max(0, realHeight - viewport);
  const first = Math.min(count, Math.floor(virtualTop / rowHeight));
  const visible = Math.ceil(viewport / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  // Place row `first` where it appears on screen; rows before it stack above.
  const firstOnScreen = scrollTop - (virtualTop - first * rowHeight);
  const offsetTop = Math.max(0, firstOnScreen - (first - start) * rowHeight);
  return { start, end, offsetTop, totalHeight };
}

/** The `scrollTop` that shows row `index` at the top (or the bottom end when `align` is 'end'). */
export function scrollTopForRow(
  index: number,
  count: number,
  rowHeight: number,
  viewportHeight: number,
  align: 'start' | 'end' = 'start',
): number {
  const realHeight = count * rowHeight;
  const totalHeight = spacerHeight(count, rowHeight);
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const realMax = Math.max(0, realHeight - viewportHeight);
  const target = align === 'start' ? index * rowHeight : (index + 1) * rowHeight - viewportHeight;
  const clamped = Math.min(Math.max(0, target), realMax);
  if (realHeight === totalHeight || realMax === 0) return Math.min(clamped, maxScroll);
  return (clamped / realMax) * maxScroll;
}
