import { describe, expect, it } from 'vitest';
import { Fifo } from '../../../../shared/collections/fifo';

function filled(n: number): Fifo<number> {
  const f = new Fifo<number>();
  for (let i = 0; i < n; i++) f.push(i);
  return f;
}

describe('Fifo', () => {
  it('peeks, drops the head and keeps order across compactions', () => {
    const f = filled(5000);
    expect(f.peek(3)).toEqual([0, 1, 2]);
    f.dropHead(3000); // past the compaction threshold
    expect(f.length).toBe(2000);
    expect(f.at(0)).toBe(3000);
    expect([...f].slice(-2)).toEqual([4998, 4999]);
    f.push(5000);
    expect(f.at(f.length - 1)).toBe(5000);
    f.dropHead(10_000);
    expect(f.length).toBe(0);
    expect(f.at(0)).toBeUndefined();
    expect(f.peek(4)).toEqual([]);
  });

  it('inserts from the tail by a predicate, behind the head', () => {
    const f = filled(6);
    f.dropHead(2); // 2 3 4 5
    f.insertFromTail(3.5, (x) => x > 3.5);
    f.insertFromTail(-1, (x) => x > -1); // older than all: goes to the front, not before the dropped head
    expect([...f]).toEqual([-1, 2, 3, 3.5, 4, 5]);
  });

  it('retains by a predicate', () => {
    const f = filled(10);
    f.dropHead(1);
    f.retain((x) => x % 3 !== 0);
    expect([...f]).toEqual([1, 2, 4, 5, 7, 8]);
    expect(f.at(-1)).toBeUndefined();
  });

  it('shifts in order across compactions, and takes what is left', () => {
    const f = filled(5000);
    const shifted: number[] = [];
    for (let i = 0; i < 3000; i++) shifted.push(f.shift() as number);
    f.push(5000);
    expect(shifted).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(f.length).toBe(2001);
    const rest = f.takeAll();
    expect(rest[0]).toBe(3000);
    expect(rest.at(-1)).toBe(5000);
    expect(f.length).toBe(0);
    expect(f.shift()).toBeUndefined();
  });
});
