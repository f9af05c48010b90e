import { describe, expect, it } from 'vitest';
import { ShapeSet } from '../../../../shared/protocol/codec/shapeSet';

describe('ShapeSet', () => {
  it('says whether a hash is new, across growth, colliding slots and negative hashes', () => {
    const set = new ShapeSet();
    const hashes = Array.from({ length: 5000 }, (_, i) => (Math.imul(i, 0x9e3779b1) | 0) ^ (i & 1 ? -1 : 0));
    // Multiples of 64 all start at the same slot of the first table.
    hashes.push(...Array.from({ length: 100 }, (_, i) => i * 64));
    const unique = new Set(hashes);
    let added = 0;
    for (const h of hashes) if (set.add(h)) added++;
    expect(added).toBe(unique.size);
    for (const h of hashes) expect(set.add(h)).toBe(false);
  });

  it('is empty again after clear, many times over', () => {
    const set = new ShapeSet();
    for (let round = 0; round < 1000; round++) {
      expect(set.add(7)).toBe(true);
      expect(set.add(-7)).toBe(true);
      expect(set.add(7)).toBe(false);
      if (round % 100 === 0) for (let h = 0; h < 300; h++) set.add(h * 1000 + 1);
      set.clear();
    }
  });
});
