import { describe, expect, it } from 'vitest';
import { filterAndSort, type AgentRow } from '../../../../renderer/src/stores/agents';
import { inPreviousOrder } from '../../../../renderer/src/lib/inPreviousOrder';

const row = (id: string, name: string, status: AgentRow['status'] = 'running'): AgentRow => ({
  id,
  name,
  status,
  backend: 'shell',
  task: '',
  startedAt: 0,
  pausedAt: null,
  pauseMode: null,
  message: null,
  updatedAt: 0,
});

describe('inPreviousOrder', () => {
  it('puts the rows shown before first, in their shown order, then new rows in map order', () => {
    const a = row('a', 'alpha');
    const b = row('b', 'bravo');
    const c = row('c', 'charlie');
    const rows = new Map([a, b, c].map((r) => [r.id, r]));
    expect(inPreviousOrder(rows, [c, a]).map((r) => r.id)).toEqual(['c', 'a', 'b']);
  });

  it('drops rows no longer in the map and treats a replaced row object as new', () => {
    const a = row('a', 'alpha');
    const b = row('b', 'bravo');
    const c = row('c', 'charlie');
    const b2 = row('b', 'bravo 2');
    const rows = new Map([a, b2].map((r) => [r.id, r]));
    const out = inPreviousOrder(rows, [c, b, a]);
    expect(out).toEqual([a, b2]);
    expect(out).not.toContain(b);
  });

  it('gives every row exactly once, so sorting it gives the same table as sorting the map', () => {
    // A status flood: rows patched in place between two sorts, some added, some removed.
    const rows = new Map<string, AgentRow>();
    for (let i = 0; i < 500; i++) rows.set(`id${i}`, row(`id${i}`, `agent-${(i * 7919) % 500}`));
    let shown = filterAndSort(inPreviousOrder(rows, []), '', '', 'status', 'asc');
    const statuses: AgentRow['status'][] = ['running', 'paused', 'failed', 'completed'];
    for (let round = 0; round < 20; round++) {
      for (let i = round; i < 500; i += 13) {
        const r = rows.get(`id${i}`);
        if (r) r.status = statuses[(i + round) % statuses.length] ?? 'running';
      }
      rows.delete(`id${round * 3}`);
      rows.set(`new${round}`, row(`new${round}`, `agent-new-${round}`, 'failed'));
      const fresh = filterAndSort(rows.values(), '', '', 'status', 'asc');
      shown = filterAndSort(inPreviousOrder(rows, shown), '', '', 'status', 'asc');
      expect(shown.map((r) => r.id)).toEqual(fresh.map((r) => r.id));
    }
  });
});
