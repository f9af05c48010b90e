/**
 * A row of the `commands` table and how it becomes a `QueuedCommand`. One list of column rules
 * drives both checks: `decodeCommandRow` (every read, in JS, with the request decoded) and
 * `UNREADABLE_ROWS_SQL` (every open, in SQL). A row either passes or is named with the first
 * rule it breaks, so it can be set aside in quarantine instead of stopping the whole queue.
 */
import type { SQLiteValue } from 'node-sqlite3-wasm';
import { COMMAND_STATES } from '../../../shared/domain/command';
import type {
  CommandKind,
  CommandOutcome,
  CommandState,
  QueuedCommand,
} from '../../../shared/domain/command';
import { REPLY_TYPE } from '../../../shared/protocol';
import type { RequestCodec } from './requestCodec';

/** A row as node-sqlite3-wasm returns it. */
export type Row = Record<string, SQLiteValue>;

/** The columns of `commands`, in table order. */
export const COMMAND_COLUMNS = [
  'seq',
  'id',
  'server_id',
  'kind',
  'request',
  'state',
  'created_at',
  'updated_at',
  'sent_at',
  'settled_at',
  'attempts',
  'expires_at',
  'outcome',
  'summary',
  'retry_of',
] as const;

/** `COMMAND_COLUMNS` as a select list. */
export const COLUMNS = COMMAND_COLUMNS.join(', ');

/** A row that breaks one of the rules; `reason` says which, for the operator. */
export class UnreadableRowError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UnreadableRowError';
  }
}

const KINDS = Object.keys(REPLY_TYPE) as CommandKind[];
const OUTCOME_KINDS: readonly CommandOutcome['kind'][] = [
  'reply',
  'send_error',
  'unknown',
  'expired',
  'cancelled',
];

type Rule =
  | { readonly kind: 'int'; readonly nullable: boolean; readonly min?: number }
  | { readonly kind: 'text'; readonly nullable: boolean; readonly nonEmpty?: boolean }
  | { readonly kind: 'blob' }
  | { readonly kind: 'enum'; readonly values: readonly string[]; readonly what: string }
  | { readonly kind: 'json'; readonly kinds: readonly string[] };

/** Every column's rule (what the store itself writes). */
const RULES: { readonly [C in (typeof COMMAND_COLUMNS)[number]]: Rule } = {
  seq: { kind: 'int', nullable: false },
  id: { kind: 'text', nullable: false, nonEmpty: true },
  server_id: { kind: 'text', nullable: false, nonEmpty: true },
  kind: { kind: 'enum', values: KINDS, what: 'request type' },
  request: { kind: 'blob' },
  state: { kind: 'enum', values: COMMAND_STATES, what: 'command state' },
  created_at: { kind: 'int', nullable: false },
  updated_at: { kind: 'int', nullable: false },
  sent_at: { kind: 'int', nullable: true },
  settled_at: { kind: 'int', nullable: true },
  attempts: { kind: 'int', nullable: false, min: 0 },
  expires_at: { kind: 'int', nullable: true },
  outcome: { kind: 'json', kinds: OUTCOME_KINDS },
  summary: { kind: 'text', nullable: false },
  retry_of: { kind: 'text', nullable: true },
};

/** SQLite's name for the storage class of a value (what `typeof()` says in SQL). */
export function sqliteType(value: SQLiteValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'real';
  return 'blob';
}

const expected = (rule: Rule): string => {
  switch (rule.kind) {
    case 'int':
      return rule.nullable ? 'a whole number or null' : 'a whole number';
    case 'text':
      return rule.nullable ? 'text or null' : 'text';
    case 'blob':
      return 'bytes';
    case 'enum':
      return 'text';
    case 'json':
      return 'JSON text or null';
  }
};

const wrongType = (column: string, rule: Rule, found: string): string =>
  `${column}: expected ${expected(rule)}, found ${found}`;

/** The first rule `value` breaks, or null. Does not look inside the request bytes. */
function columnProblem(column: string, rule: Rule, value: SQLiteValue | undefined): string | null {
  const type = sqliteType(value);
  switch (rule.kind) {
    case 'int': {
      if (type === 'null' && rule.nullable) return null;
      if (type !== 'integer') return wrongType(column, rule, type);
      const n = typeof value === 'bigint' ? value : BigInt(value as number);
      if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        return `${column}: ${n.toString()} is beyond the whole numbers JavaScript holds exactly`;
      }
      if (rule.min !== undefined && n < BigInt(rule.min))
        return `${column}: ${n.toString()} is below ${rule.min}`;
      return null;
    }
    case 'text':
      if (type === 'null' && rule.nullable) return null;
      if (type !== 'text') return wrongType(column, rule, type);
      return rule.nonEmpty === true && value === '' ? `${column}: empty` : null;
    case 'blob':
      return type === 'blob' ? null : wrongType(column, rule, type);
    case 'enum':
      if (type !== 'text') return wrongType(column, rule, type);
      return rule.values.includes(value as string)
        ? null
        : `${column}: ${JSON.stringify(value)} is not a ${rule.what}`;
    case 'json': {
      if (type === 'null') return null;
      if (type !== 'text') return wrongType(column, rule, type);
      let parsed: unknown;
      try {
        parsed = JSON.parse(value as string);
      } catch {
        return `${column}: not valid JSON`;
      }
      const kind =
        typeof parsed === 'object' && parsed !== null ? (parsed as { kind?: unknown }).kind : undefined;
      return typeof kind === 'string' && rule.kinds.includes(kind)
        ? null
        : `${column}: no known outcome kind (${JSON.stringify(kind ?? null)})`;
    }
  }
}

const sqlText = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const sqlList = (values: readonly string[]): string => values.map(sqlText).join(', ');

/** The SQL CASE branches of one column's rule, in the order `columnProblem` checks them. */
function sqlBranches(column: string, rule: Rule): string[] {
  const found = (what: string): string =>
    `${sqlText(`${column}: expected ${expected(rule)}, found `)} || ${what}`;
  const type = `typeof(${column})`;
  switch (rule.kind) {
    case 'int': {
      const allowed = rule.nullable ? `('integer', 'null')` : `('integer')`;
      const out = [`WHEN ${type} NOT IN ${allowed} THEN ${found(type)}`];
      out.push(
        `WHEN ${column} > ${Number.MAX_SAFE_INTEGER} OR ${column} < ${Number.MIN_SAFE_INTEGER} THEN ${sqlText(`${column}: `)} || ${column} || ' is beyond the whole numbers JavaScript holds exactly'`,
      );
      if (rule.min !== undefined) {
        out.push(
          `WHEN ${column} < ${rule.min} THEN ${sqlText(`${column}: `)} || ${column} || ' is below ${rule.min}'`,
        );
      }
      return out;
    }
    case 'text': {
      const allowed = rule.nullable ? `('text', 'null')` : `('text')`;
      const out = [`WHEN ${type} NOT IN ${allowed} THEN ${found(type)}`];
      if (rule.nonEmpty === true) out.push(`WHEN ${column} = '' THEN ${sqlText(`${column}: empty`)}`);
      return out;
    }
    case 'blob':
      return [`WHEN ${type} <> 'blob' THEN ${found(type)}`];
    case 'enum':
      return [
        `WHEN ${type} <> 'text' THEN ${found(type)}`,
        `WHEN ${column} NOT IN (${sqlList(rule.values)}) THEN ${sqlText(`${column}: `)} || json_quote(${column}) || ${sqlText(` is not a ${rule.what}`)}`,
      ];
    case 'json':
      return [
        `WHEN ${type} NOT IN ('text', 'null') THEN ${found(type)}`,
        `WHEN ${column} IS NOT NULL AND NOT json_valid(${column}) THEN ${sqlText(`${column}: not valid JSON`)}`,
        `WHEN ${column} IS NOT NULL AND (json_type(${column}, '$.kind') IS NOT 'text' OR json_extract(${column}, '$.kind') NOT IN (${sqlList(rule.kinds)})) THEN ${sqlText(`${column}: no known outcome kind (`)} || coalesce(json_quote(json_extract(${column}, '$.kind')), 'null') || ')'`,
      ];
  }
}

const PENDING = `state IN ('queued', 'sending')`;

/**
 * Selects `seq, reason` of the rows of `commands` that must be set aside at open: every pending
 * (queued or sending) row that breaks a column rule, and every row whose state is none at all
 * (no read would ever meet it: it is neither pending nor in any state a list asks for). Settled
 * rows are checked in full when first read, like every row's request bytes: checking all of
 * them at every start cost ~0.2 s per 100 000 commands in rules and ~0.6 s in decoding.
 */
export const UNREADABLE_ROWS_SQL = `SELECT seq, reason FROM (SELECT seq, CASE ${Object.entries(RULES)
  .flatMap(([column, rule]) => sqlBranches(column, rule))
  .join(
    ' ',
  )} END AS reason FROM commands WHERE ${PENDING} OR typeof(state) <> 'text' OR state NOT IN (${sqlList(
  COMMAND_STATES,
)})) WHERE reason IS NOT NULL ORDER BY seq`;

/**
 * The command a row holds.
 * @throws UnreadableRowError naming the first problem: a column of the wrong type, NULL where a
 *   value is required, an unknown state or kind, an outcome that is not one this store writes,
 *   request bytes that do not decode to a request, or a request whose type or request_id differs
 *   from the row's kind or id
 */
export function decodeCommandRow(row: Row, codec: RequestCodec): QueuedCommand {
  for (const column of COMMAND_COLUMNS) {
    const problem = columnProblem(column, RULES[column], row[column]);
    if (problem !== null) throw new UnreadableRowError(problem);
  }
  const id = row.id as string;
  const kind = row.kind as CommandKind;
  let request;
  try {
    request = codec.decode(row.request as Uint8Array);
  } catch (error) {
    throw new UnreadableRowError(
      `request: its bytes do not decode to a request (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (request.type !== kind) {
    throw new UnreadableRowError(`request: holds a ${request.type}, but kind says ${kind}`);
  }
  if (request.request_id !== id) {
    throw new UnreadableRowError(`request: its request_id ${request.request_id} is not the row's id ${id}`);
  }
  return {
    id,
    seq: row.seq as number,
    serverId: row.server_id as string,
    kind,
    request,
    state: row.state as CommandState,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    sentAt: row.sent_at as number | null,
    settledAt: row.settled_at as number | null,
    attempts: row.attempts as number,
    expiresAt: row.expires_at as number | null,
    outcome: parseOutcome(row.outcome as string | null),
    summary: row.summary as string,
    retryOf: row.retry_of as string | null,
  };
}

/** An outcome column that passed its rule: checks the fields its kind must have. */
function parseOutcome(text: string | null): CommandOutcome | null {
  if (text === null) return null;
  const o = JSON.parse(text) as Record<string, unknown> & { kind: CommandOutcome['kind'] };
  const str = (key: string): boolean => typeof o[key] === 'string';
  const strOrNull = (key: string): boolean => o[key] === null || typeof o[key] === 'string';
  let ok: boolean;
  switch (o.kind) {
    case 'reply':
      ok = typeof o.success === 'boolean' && strOrNull('error') && str('detail') && strOrNull('agentId');
      break;
    case 'send_error':
      ok = str('message');
      break;
    case 'unknown':
    case 'cancelled':
      ok = str('reason');
      break;
    case 'expired':
      ok = Number.isSafeInteger(o.expiresAt);
      break;
  }
  if (!ok) throw new UnreadableRowError(`outcome: a ${o.kind} outcome without the fields it needs`);
  return o as unknown as CommandOutcome;
}
