/**
 * Collects items and hands them over once per animation frame, so a burst of events costs one
 * reactive update and one render instead of one per event.
 */

export type Scheduler = (callback: () => void) => () => void;

/** `requestAnimationFrame` where there is one (falls back to a 16 ms timer). */
export const animationFrameScheduler: Scheduler = (callback) => {
  if (typeof requestAnimationFrame === 'function') {
    const handle = requestAnimationFrame(() => {
      callback();
    });
    return () => {
      cancelAnimationFrame(handle);
    };
  }
  const handle = setTimeout(callback, 16);
  return () => {
    clearTimeout(handle);
  };
};

/**
 * The frame after the next one. For a secondary view fed by the same events as a busier one
 * (the status feed beside the agents table): its update lands in the frame after the busy
 * view's, so the two never add up in one frame.
 */
export const secondFrameScheduler: Scheduler = (callback) => {
  let cancelSecond: (() => void) | null = null;
  const cancelFirst = animationFrameScheduler(() => {
    cancelSecond = animationFrameScheduler(callback);
  });
  return () => {
    cancelFirst();
    cancelSecond?.();
  };
};

export class FrameBatcher<T> {
  private items: T[] = [];
  private cancel: (() => void) | null = null;

  constructor(
    private readonly apply: (items: T[]) => void,
    private readonly schedule: Scheduler = animationFrameScheduler,
  ) {}

  /** Adds items; they are applied on the next frame. */
  push(...items: T[]): void {
    for (const item of items) this.items.push(item);
    this.cancel ??= this.schedule(() => {
      this.cancel = null;
      this.flush();
    });
  }

  /** Applies what is pending now. */
  flush(): void {
    if (this.cancel) {
      this.cancel();
      this.cancel = null;
    }
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.apply(items);
  }

  /** Drops pending items and the scheduled frame. */
  dispose(): void {
    this.cancel?.();
    this.cancel = null;
    this.items = [];
  }
}
