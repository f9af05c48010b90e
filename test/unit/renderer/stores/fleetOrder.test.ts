import { describe, expect, it } from 'vitest';
import { filterFleet, fleetRowFromInfo } from '../../../../renderer/src/stores/fleet';

const info = (n: number, name: string) => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name,
  status: 'running' as const,
  model_backend: 'shell',
  started_at: { secs_since_epoch: 1_700_000_000 + n, nanos_since_epoch: 0 },
  task: `task ${n}`,
});

describe('filterFleet sorted by server', () => {
  const rows = [
    fleetRowFromInfo('s-b', 'beta', info(1, 'b-agent'), 1),
    fleetRowFromInfo('s-a', 'alpha', info(2, 'z-agent'), 1),
    fleetRowFromInfo('s-b', 'beta', info(3, 'a-agent'), 1),
    fleetRowFromInfo('s-a', 'alpha', info(4, 'same'), 1),
    fleetRowFromInfo('s-a', 'alpha', info(5, 'same'), 1),
  ];
  const order = (dir: 'asc' | 'desc') =>
    filterFleet(rows, '', '', '', 'server', dir).map(
      (r) => `${r.serverName}/${r.name}/${r.agentId.slice(-1)}`,
    );

  it('orders by server name, then agent name, then row key', () => {
    expect(order('asc')).toEqual([
      'alpha/same/4',
      'alpha/same/5',
      'alpha/z-agent/2',
      'beta/a-agent/3',
      'beta/b-agent/1',
    ]);
  });

  it('reverses the whole order when descending', () => {
    expect(order('desc')).toEqual([...order('asc')].reverse());
  });

  it('sorts only the rows the filters keep', () => {
    expect(filterFleet(rows, 's-b', 'A-AGENT', '', 'server', 'asc').map((r) => r.name)).toEqual(['a-agent']);
  });
});
