import { describe, expect, it } from 'vitest';
import {
  csvField,
  historyToCsv,
  historyToJson,
  HISTORY_CSV_COLUMNS,
} from '../../../../../main/core/ipc/historyExport';
import type { QueuedCommand } from '../../../../../shared/domain/command';

const cmd: QueuedCommand = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  seq: 7,
  serverId: 'srv',
  kind: 'spawn_request',
  request: {
    type: 'spawn_request',
    request_id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
    config: {
      name: 'a "quoted", name',
      model_backend: 'shell',
      task: 'x',
      environment: {},
    },
    timeout_secs: 2n ** 60n,
    metadata: null,
  },
  state: 'failed',
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  updatedAt: Date.UTC(2026, 0, 2, 3, 4, 6),
  sentAt: null,
  settledAt: Date.UTC(2026, 0, 2, 3, 4, 6),
  attempts: 1,
  expiresAt: null,
  outcome: { kind: 'reply', success: false, error: 'line1\nline2', detail: 'not spawned', agentId: null },
  summary: 'spawn agent "a "quoted", name" (shell)',
  retryOf: null,
};

describe('history export', () => {
  it('writes RFC 4180 CSV with quoting and ISO times', () => {
    const csv = historyToCsv([cmd]);
    const [header, row, end] = csv.split('\r\n');
    expect(header).toBe(HISTORY_CSV_COLUMNS.join(','));
    expect(end).toBe('');
    expect(row).toContain('"spawn agent ""a ""quoted"", name"" (shell)"');
    expect(row).toContain('2026-01-02T03:04:05.000Z');
    expect(csv).toContain('"not spawned: line1\nline2"');
    expect(row?.startsWith(`${cmd.id},srv,spawn_request,`)).toBe(true);
  });

  it('neutralises spreadsheet formulas', () => {
    expect(csvField('=cmd()')).toBe("'=cmd()");
    expect(csvField('@x,y')).toBe(`"'@x,y"`);
    expect(csvField('plain')).toBe('plain');
  });

  it('writes JSON with bigints as decimal strings', () => {
    const parsed = JSON.parse(historyToJson([cmd])) as { request: { timeout_secs: string } }[];
    expect(parsed[0]?.request.timeout_secs).toBe((2n ** 60n).toString());
  });
});
