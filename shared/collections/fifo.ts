/**
 * An array-backed FIFO whose head is dropped in O(1): `Array.prototype.shift` copies the whole
 * array once it is large (V8 trims the head in place only for small arrays), which made a
 * queue of 100,000 commands drain in quadratic time. THE head-compaction rule for the command
 * queue's pending index and every socket's serial sender.
 */
/** Compact once more than this many dropped items sit before the head, and they are most of it. */
const COMPACT_AFTER = 1024;

export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The item at `index` from the head, or undefined. */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.items[this.head + index];
  }

  /** The first `n` items, oldest first (nothing is removed). */
  peek(n: number): T[] {
    return this.items.slice(this.head, this.head + Math.max(0, n));
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Inserts `item` before the first item from the tail for which `after(existing)` is false. */
  insertFromTail(item: T, after: (existing: T) => boolean): void {
    let index = this.items.length;
    while (index > this.head && after(this.items[index - 1] as T)) index--;
    this.items.splice(index, 0, item);
  }

  /** Removes and returns the head item, or undefined when empty. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head] as T;
    this.dropHead(1);
    return item;
  }

  /** Removes every item and returns them, oldest first. */
  takeAll(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }

  /** Drops the first `n` items. */
  dropHead(n: number): void {
    this.head = Math.min(this.items.length, this.head + Math.max(0, n));
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Keeps only the items for which `keep` is true, in order. */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (keep(item)) kept.push(item);
    }
    this.items = kept;
    this.head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
