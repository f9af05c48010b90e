import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../../main/core/transport/backoff';

describe('backoffDelay', () => {
  it('doubles per attempt between half and the whole step', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 30_000, () => 0.999999)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(3000);
  });

  it('never exceeds the cap, even after very many attempts', () => {
    for (const attempt of [10, 31, 100, 10_000]) {
      const d = backoffDelay(attempt, 500, 30_000, () => 0.999999);
      expect(d).toBeLessThanOrEqual(30_000);
      expect(d).toBeGreaterThanOrEqual(15_000);
    }
  });

  it('spreads clients out: jitter gives different delays for the same attempt', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 500, 30_000)));
    expect(seen.size).toBeGreaterThan(10);
  });
});
