/**
 * The set of object-shape hashes one decode has made (reader.ts `chargeKey`), emptied before every
 * decode. A `Set<number>` cost more than the rest of decoding a small message with one JSON map:
 * `clear()` allocates a new table each time. Here emptying is a generation bump, and the table is
 * open addressing over two Int32Arrays, grown (rehashed) when half full.
 */
export class ShapeSet {
  private keys = new Int32Array(64);
  /** The generation that wrote each slot; a slot of an older generation is empty. */
  private stamps = new Int32Array(64);
  private generation = 1;
  private count = 0;

  /** Empties the set. */
  clear(): void {
    this.count = 0;
    if (++this.generation === 0x7fffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** Adds hash `h` (an int32); returns whether it was new. */
  add(h: number): boolean {
    const mask = this.keys.length - 1;
    const gen = this.generation;
    let i = h & mask;
    while (this.stamps[i] === gen) {
      if (this.keys[i] === h) return false;
      i = (i + 1) & mask;
    }
    this.keys[i] = h;
    this.stamps[i] = gen;
    if (++this.count * 2 > this.keys.length) this.grow();
    return true;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldStamps = this.stamps;
    const gen = this.generation;
    this.keys = new Int32Array(oldKeys.length * 2);
    this.stamps = new Int32Array(oldKeys.length * 2);
    const mask = this.keys.length - 1;
    for (let k = 0; k < oldKeys.length; k++) {
      if (oldStamps[k] !== gen) continue;
      const h = oldKeys[k] as number;
      let i = h & mask;
      while (this.stamps[i] === gen) i = (i + 1) & mask;
      this.keys[i] = h;
      this.stamps[i] = gen;
    }
  }
}
