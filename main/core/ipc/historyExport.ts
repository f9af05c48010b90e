import type { QueuedCommand } from '../../../shared/domain/command';

/** Columns of the CSV export, in order. */
export const HISTORY_CSV_COLUMNS = [
  'id',
  'server_id',
  'kind',
  'summary',
  'state',
  'created_at',
  'sent_at',
  'settled_at',
  'attempts',
  'expires_at',
  'outcome',
  'detail',
  'retry_of',
] as const;

/**
 * The history as JSON text: an array of commands, bigints written as decimal strings (JSON has
 * no 64-bit integers), two-space indented.
 */
export function historyToJson(commands: readonly QueuedCommand[]): string {
  return JSON.stringify(
    commands,
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    2,
  );
}

/**
 * The history as RFC 4180 CSV: a header line, one line per command, CRLF line ends, every field
 * quoted when it holds a comma, quote, CR or LF. Times are ISO 8601 (UTC); empty when unset.
 * Fields that start with `=`, `+`, `-` or `@` get a leading `'` so spreadsheets do not run them
 * as formulas (commands carry operator-typed text).
 */
export function historyToCsv(commands: readonly QueuedCommand[]): string {
  const lines = [HISTORY_CSV_COLUMNS.join(',')];
  for (const c of commands) {
    const fields = [
      c.id,
      c.serverId,
      c.kind,
      c.summary,
      c.state,
      iso(c.createdAt),
      iso(c.sentAt),
      iso(c.settledAt),
      String(c.attempts),
      iso(c.expiresAt),
      c.outcome?.kind ?? '',
      outcomeDetail(c),
      c.retryOf ?? '',
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function outcomeDetail(c: QueuedCommand): string {
  const o = c.outcome;
  if (o === null) return '';
  switch (o.kind) {
    case 'reply':
      return o.error === null ? o.detail : `${o.detail}: ${o.error}`;
    case 'send_error':
      return o.message;
    case 'unknown':
      return o.reason;
    case 'expired':
      return `expired at ${iso(o.expiresAt)}`;
    case 'cancelled':
      return o.reason;
    default: {
      const never: never = o;
      return String(never);
    }
  }
}

function iso(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString();
}

/** One CSV field, quoted when needed, neutralised against formula injection. */
export function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
