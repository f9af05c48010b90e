import { describe, expect, it } from 'vitest';
import { matchesNeedle } from '../../../../renderer/src/lib/agentMatch';

const row = (name: string, task = 'Summarise the LOGS', backend = 'Claude') => ({
  id: '0f8fad5b-d9cb-469f-a165-70867728950e',
  name,
  task,
  backend,
});

describe('matchesNeedle (the agents tables text filter)', () => {
  it('matches name, task and backend case-insensitively, and the id as typed', () => {
    const r = row('Worker-7');
    expect(matchesNeedle(r, 'worker-7')).toBe(true);
    expect(matchesNeedle(r, 'the logs')).toBe(true);
    expect(matchesNeedle(r, 'claude')).toBe(true);
    expect(matchesNeedle(r, 'd9cb-469f')).toBe(true);
    expect(matchesNeedle(r, 'gpt')).toBe(false);
    expect(matchesNeedle(r, '')).toBe(true);
  });

  it('follows a row patched in place: a renamed agent matches its new name only', () => {
    const r = { ...row('alpha') };
    expect(matchesNeedle(r, 'alpha')).toBe(true);
    r.name = 'Beta';
    r.task = 'Index';
    r.backend = 'Shell';
    expect(matchesNeedle(r, 'alpha')).toBe(false);
    expect(matchesNeedle(r, 'beta')).toBe(true);
    expect(matchesNeedle(r, 'index')).toBe(true);
    expect(matchesNeedle(r, 'shell')).toBe(true);
    expect(matchesNeedle(r, 'claude')).toBe(false);
  });
});
