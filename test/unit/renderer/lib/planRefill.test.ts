import { describe, expect, it } from 'vitest';
import {
  planRefill,
  REFILL_PROBE,
  type StoredLine,
  type TailLine,
} from '../../../../renderer/src/lib/planRefill';

/** `'x'` is a stdout line, `'!x'` a stderr line. */
const shown = (...texts: string[]): TailLine[] =>
  texts.map((t) =>
    t.startsWith('!') ? { stream: 'stderr', text: t.slice(1) } : { stream: 'stdout', text: t },
  );
const stored = (...texts: string[]): StoredLine[] => shown(...texts);
const unknownStreams = (...texts: string[]): StoredLine[] => texts.map((text) => ({ text, stream: null }));
const texts = (lines: readonly StoredLine[]): string[] =>
  lines.map((l) => (l.stream === 'stderr' ? `!${l.text}` : l.stream === null ? `?${l.text}` : l.text));

describe('planRefill', () => {
  it('refills exactly the stored lines between the last shown before the loss and the first shown after it', () => {
    const plan = planRefill(shown('a', 'b'), shown('e', 'f'), stored('a', 'b', 'c', '!d', 'e', 'f', 'g'));
    // g was stored after f and waited in the dropped batch: it is added too.
    expect(texts(plan.lines)).toEqual(['c', '!d', 'g']);
    expect(plan.exact).toBe(true);
  });

  it('compares streams: the same text on the other stream is a different line', () => {
    const plan = planRefill(shown('x'), shown('y'), stored('x', '!x', '!y', 'y'));
    expect(texts(plan.lines)).toEqual(['!x', '!y']);
    expect(plan.exact).toBe(true);
    // Without streams from the server only the text can be compared.
    const blind = planRefill(shown('x'), shown('y'), unknownStreams('x', 'x', 'y', 'y'));
    expect(texts(blind.lines)).toEqual(['?y']);
    expect(blind.exact).toBe(false); // "x" could end at either place
  });

  it('with nothing shown since the loss, every stored line after the shown ones is new', () => {
    const plan = planRefill(shown('a', 'b'), [], stored('z', 'a', 'b', 'c', 'd'));
    expect(texts(plan.lines)).toEqual(['c', 'd']);
    expect(plan.exact).toBe(true);
  });

  it('runs of identical lines: takes the latest placement and says the refill is uncertain', () => {
    const plan = planRefill(
      shown('tick', 'tick'),
      shown('tick'),
      stored('tick', 'tick', 'tick', 'tick', 'tick'),
    );
    expect(plan.exact).toBe(false);
    expect(plan.lines.length).toBeLessThanOrEqual(2);
  });

  it('a loss longer than the stored page: all stored lines before the ones shown after it, not exact', () => {
    const plan = planRefill(shown('a', 'b'), shown('y'), stored('p', 'q', 'y', 'z'));
    expect(texts(plan.lines)).toEqual(['p', 'q', 'z']);
    expect(plan.exact).toBe(false);
  });

  it('nothing shown before the loss: stored lines before the first shown one may predate the tail, so they are left out', () => {
    const plan = planRefill([], shown('y'), stored('old', 'y', 'z'));
    expect(texts(plan.lines)).toEqual(['z']);
    expect(plan.exact).toBe(false);
  });

  it('lines shown after the loss that the page does not hold: nothing can be placed', () => {
    expect(planRefill(shown('a'), shown('n'), stored('a', 'b'))).toEqual({ lines: [], exact: false });
  });

  it(`compares only the last ${REFILL_PROBE} lines shown before the loss`, () => {
    const before = shown(...Array.from({ length: REFILL_PROBE + 5 }, (_, i) => `l${i}`));
    // The store no longer holds the oldest shown lines: the newest ones still place the loss.
    const page = stored(...before.slice(-REFILL_PROBE).map((l) => l.text), 'lost', 'after');
    const plan = planRefill(before, shown('after'), page);
    expect(texts(plan.lines)).toEqual(['lost']);
    expect(plan.exact).toBe(true);
  });
});
