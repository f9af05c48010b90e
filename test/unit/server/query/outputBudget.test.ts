import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineStore } from '../../../../server/lineStore';
import { OutputBudget } from '../../../../server/query/outputBudget';

const roomy = { maxLines: 1_000_000, maxBytes: 1_000_000_000, maxLineBytes: 1024 };

/** `n` lines of exactly 10 bytes (`<tag><7 digits>\n` without the newline is 10 bytes). */
function tenByteLines(tag: string, from: number, n: number): Buffer {
  let text = '';
  for (let i = from; i < from + n; i++) text += `${tag}${String(i).padStart(10 - tag.length, '0')}\n`;
  return Buffer.from(text);
}

function store(budget: OutputBudget, segmentLines = 10): LineStore {
  return new LineStore(roomy, { budget, segmentLines, segmentBytes: segmentLines * 10 });
}

/** A budget of `limit` bytes shared by two stores, as two agents' output shares the server's. */
function twoAgents(limit: number, onDrop?: (lines: number) => void) {
  const budget = new OutputBudget(limit, onDrop);
  return { budget, a: store(budget), b: store(budget) };
}

describe('OutputBudget', () => {
  it('counts what the stores hold and drops the oldest output beyond the limit', () => {
    let dropped = 0;
    const { budget, a, b } = twoAgents(1000, (n) => (dropped += n));
    a.append('stdout', tenByteLines('a', 0, 50)); // 500 B, older
    b.append('stdout', tenByteLines('b', 0, 50)); // 500 B
    expect(budget.heldBytes).toBe(1000);
    expect(dropped).toBe(0);
    b.append('stdout', tenByteLines('b', 50, 10)); // 100 B over: a's oldest go
    expect(budget.heldBytes).toBe(1000);
    expect(a.read('both', 0, 1).lines).toEqual(['a000000010']);
    expect(a.dropped('both')).toBe(10);
    expect(b.dropped('both')).toBe(0);
    expect(dropped).toBe(10);
    expect(budget.droppedLines).toBe(10);
  });

  it("drops exited agents' output first, even when a running agent's is older", () => {
    const { budget, a: running, b: exited } = twoAgents(1000);
    running.append('stdout', tenByteLines('r', 0, 50));
    exited.append('stderr', tenByteLines('e', 0, 50));
    exited.retire();
    running.append('stdout', tenByteLines('r', 50, 30));
    expect(budget.heldBytes).toBe(1000);
    expect(running.dropped('both')).toBe(0);
    expect(exited.dropped('stderr')).toBe(30);
    expect(exited.read('stderr', 0, 1).lines).toEqual(['e000000030']);
    // Once the exited agent holds nothing, running agents' oldest lines go.
    running.append('stdout', tenByteLines('r', 80, 40));
    expect(exited.lineCount).toBe(0);
    expect(exited.dropped('both')).toBe(50);
    expect(running.dropped('both')).toBe(20);
    expect(budget.heldBytes).toBe(1000);
  });

  it('between running agents, the one whose oldest segment is older loses lines first', () => {
    const { budget, a, b } = twoAgents(400);
    // Segments of 10 lines: a0 (stamp 1), b0 (2), a1 (3), b1 (4).
    a.append('stdout', tenByteLines('a', 0, 10));
    b.append('stdout', tenByteLines('b', 0, 10));
    a.append('stdout', tenByteLines('a', 10, 10));
    b.append('stdout', tenByteLines('b', 10, 10));
    expect(budget.heldBytes).toBe(400);
    b.append('stdout', tenByteLines('b', 20, 15)); // 150 B over: all of a0, then half of b0
    expect(a.read('both', 0, 1).lines).toEqual(['a000000010']);
    expect(b.read('both', 0, 1).lines).toEqual(['b000000005']);
    expect(budget.heldBytes).toBe(400);
  });

  it('a store that is let go no longer counts', () => {
    const budget = new OutputBudget(10_000);
    const a = store(budget);
    a.append('stdout', tenByteLines('a', 0, 20));
    a.retire();
    expect(budget.heldBytes).toBe(200);
    a.release();
    expect(budget.heldBytes).toBe(0);
    a.release();
    expect(budget.heldBytes).toBe(0);
  });

  it("reports lines a store drops under its own max_lines too (but they free the store's own bytes)", () => {
    let dropped = 0;
    const budget = new OutputBudget(1_000_000, (n) => (dropped += n));
    const small = new LineStore({ ...roomy, maxLines: 5 }, { budget });
    small.append('stdout', tenByteLines('s', 0, 8));
    expect(dropped).toBe(3);
    expect(budget.heldBytes).toBe(50);
  });

  it('whatever the appends, the stores hold at most the limit and the budget adds up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 50, max: 2000 }),
        fc.array(fc.record({ who: fc.nat(3), lines: fc.integer({ min: 1, max: 40 }), exit: fc.boolean() }), {
          maxLength: 60,
        }),
        (limit, steps) => {
          const budget = new OutputBudget(limit);
          const stores = [0, 1, 2, 3].map(() => store(budget, 7));
          const written = [0, 0, 0, 0];
          for (const step of steps) {
            const s = stores[step.who] as LineStore;
            s.append('stdout', tenByteLines('x', written[step.who] ?? 0, step.lines));
            written[step.who] = (written[step.who] ?? 0) + step.lines;
            if (step.exit) s.retire();
            expect(budget.heldBytes).toBeLessThanOrEqual(limit);
          }
          const held = stores.reduce((sum, s) => sum + s.byteCount, 0);
          expect(budget.heldBytes).toBe(held);
          const kept = stores.reduce((sum, s) => sum + s.lineCount, 0);
          expect(kept + budget.droppedLines).toBe(written.reduce((x, y) => x + y, 0));
          stores.forEach((s, i) => {
            // Each store keeps its newest lines, in order, and says how many went before them.
            const lines = s.read('both', 0, 1000).lines;
            expect(lines).toEqual(
              Array.from(
                { length: s.lineCount },
                (_v, k) => `x${String(s.dropped('both') + k).padStart(9, '0')}`,
              ),
            );
            expect(s.dropped('both') + s.lineCount).toBe(written[i]);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
