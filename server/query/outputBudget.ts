/** A line store as the budget sees it (see `LineStore`). */
export interface BudgetedStore {
  /** UTF-8 bytes of the lines it holds. */
  readonly byteCount: number;
  /** Creation order of its oldest segment ({@link OutputBudget.nextStamp}), or null when empty. */
  readonly oldestStamp: number | null;
  /**
   * Drops its oldest lines, at least one and at most the rest of its oldest segment, until
   * `bytes` are freed. Reports what it dropped through {@link OutputBudget.changed}.
   */
  shed(bytes: number): void;
}

/**
 * The global budget of stored output (config `line_store.total_bytes`): the UTF-8 bytes held
 * by every agent's line store together. Over it, output is dropped oldest first at the
 * granularity of a segment (≤ 1 MiB): first exited agents' output, then running agents'.
 * Stores report their byte changes and dropped lines (for any reason, their own
 * `max_lines`/`max_bytes` included) through {@link changed}.
 *
 * Memory for the output is about the bytes held plus 5 bytes a line of index, plus at most
 * one partly used segment per running agent (exited agents' segments are trimmed).
 */
export class OutputBudget {
  private held = 0;
  private dropped = 0;
  private stamp = 0;
  private readonly running = new Set<BudgetedStore>();
  private readonly exited = new Set<BudgetedStore>();
  private enforcing = false;

  /**
   * @param limitBytes most UTF-8 bytes held by all stores together
   * @param onDropped told how many lines were dropped each time some are (for the stats)
   */
  constructor(
    readonly limitBytes: number,
    private readonly onDropped: (lines: number) => void = () => undefined,
  ) {}

  /** UTF-8 bytes of output held by all registered stores. */
  get heldBytes(): number {
    return this.held;
  }

  /** Lines dropped by all stores so far (their own limits and this budget). */
  get droppedLines(): number {
    return this.dropped;
  }

  /** A number larger than every one handed out before: orders segments oldest first. */
  nextStamp(): number {
    return ++this.stamp;
  }

  /** Starts counting a new (empty) store of a running agent. */
  register(store: BudgetedStore): void {
    this.running.add(store);
  }

  /** The store's agent exited: its output is now dropped before any running agent's. */
  markExited(store: BudgetedStore): void {
    if (this.running.delete(store)) this.exited.add(store);
  }

  /** The store is forgotten (its agent is no longer kept): its bytes no longer count. */
  unregister(store: BudgetedStore): void {
    if (this.running.delete(store) || this.exited.delete(store)) this.held -= store.byteCount;
  }

  /** A store's held bytes changed by `bytes` and it dropped `droppedLines` lines. */
  changed(bytes: number, droppedLines: number): void {
    this.held += bytes;
    if (droppedLines > 0) {
      this.dropped += droppedLines;
      this.onDropped(droppedLines);
    }
  }

  /** Drops the oldest output until the stores hold at most `limitBytes`. */
  enforce(): void {
    if (this.enforcing) return;
    this.enforcing = true;
    try {
      while (this.held > this.limitBytes) {
        const victim = oldest(this.exited) ?? oldest(this.running);
        if (victim === null) break;
        victim.shed(this.held - this.limitBytes);
      }
    } finally {
      this.enforcing = false;
    }
  }
}

/** The store whose oldest segment is oldest, among those holding anything. */
function oldest(stores: ReadonlySet<BudgetedStore>): BudgetedStore | null {
  let best: BudgetedStore | null = null;
  let bestStamp = Infinity;
  for (const store of stores) {
    const stamp = store.oldestStamp;
    if (stamp !== null && store.byteCount > 0 && stamp < bestStamp) {
      best = store;
      bestStamp = stamp;
    }
  }
  return best;
}
