import { describe, expect, it } from 'vitest';
import { RegexTimeoutError } from '../../../server/regexFilter';

describe('RegexTimeoutError', () => {
  it('names the budget and its config key', () => {
    expect(new RegexTimeoutError(2000).message).toMatch(/time budget of 2000 ms \(query_budget_ms\)/);
  });
});
