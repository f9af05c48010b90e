/**
 * The command line of `npm run ctl`: parsed into a typed invocation, every mistake reported as
 * a {@link CtlUsageError} that names the argument and what was expected.
 */
import type { z } from 'zod';
import { COMMAND_STATES, type CommandState } from '../../shared/domain/command';
import { issueMessage, schemas } from '../../shared/ipc/schemas';
import {
  AGENT_STATUSES,
  CONTROL_COMMAND_TYPES,
  OUTPUT_STREAMS,
  type AgentStatus,
  type ControlCommandType,
  type JsonValue,
  type OutputStream,
} from '../../shared/protocol';
import { CurveKeyError, parseCurveKey } from '../../shared/domain/curveKey';
import { normalizeUuid } from '../../shared/protocol/uuid';
import { parseTcpEndpoint } from '../core/transport/endpoints';
import { DEFAULT_REPLY_TIMEOUT_MS } from '../../shared/domain/replyTimeout';

/** The default command endpoint (the agent server's default `--bind`). */
export const DEFAULT_SERVER = 'tcp://127.0.0.1:5555';

/** What a `spawn` asks for (the AgentConfig fields ctl can set). */
export interface SpawnSpec {
  readonly name: string;
  readonly model_backend: string;
  readonly task: string;
  readonly model: string | null;
  readonly context: string | null;
  readonly system_prompt: string | null;
  readonly tool_level: string | null;
  readonly environment: Record<string, string>;
}

export type CtlCommand =
  | { readonly kind: 'health' }
  | { readonly kind: 'list'; readonly status: AgentStatus | null; readonly limit: number | null }
  | {
      readonly kind: 'spawn';
      readonly config: SpawnSpec;
      readonly timeoutSecs: number | null;
      readonly metadata: Record<string, string> | null;
    }
  | {
      readonly kind: 'control';
      readonly agentId: string;
      readonly commandType: ControlCommandType;
      readonly payload: JsonValue;
    }
  | {
      readonly kind: 'action';
      readonly agentId: string;
      readonly action: string;
      readonly params: JsonValue;
      readonly timeoutSecs: number | null;
    }
  | {
      readonly kind: 'batch';
      readonly agentIds: readonly string[];
      readonly commandType: ControlCommandType;
      readonly payload: JsonValue;
      readonly failFast: boolean;
    }
  | {
      readonly kind: 'query';
      readonly agentId: string;
      readonly stream: OutputStream;
      readonly filter: string | null;
      readonly limit: number | null;
      readonly offset: number | null;
    }
  | { readonly kind: 'queue_list'; readonly states: readonly CommandState[]; readonly limit: number }
  | { readonly kind: 'queue_history'; readonly limit: number }
  | { readonly kind: 'queue_cancel'; readonly id: string }
  | { readonly kind: 'queue_retry'; readonly id: string }
  /** A quarantined command: by entry number, or by the request id it holds. */
  | { readonly kind: 'queue_discard'; readonly key: number | string }
  | { readonly kind: 'queue_dismiss'; readonly notice: number }
  | { readonly kind: 'queue_flush' }
  | { readonly kind: 'key' };

/** The commands that change something on the server: the only ones `--queue` applies to. */
export type MutatingCtlCommand = Extract<CtlCommand, { kind: 'spawn' | 'control' | 'action' | 'batch' }>;

export interface CtlOptions {
  /** Command endpoint, `tcp://host:port`. */
  readonly server: string;
  /** Whether `--server` (or `DESCARTES_SERVER`) was given: queue commands then act on that server only. */
  readonly serverGiven: boolean;
  /**
   * `--server-key`: the server's public key (Z85) to pin; ctl then speaks CurveZMQ with the
   * console's client key from `dataDir`. Null: the key pinned in the console's profile for
   * `server`, if any, else plain.
   */
  readonly serverKey: string | null;
  /** Go through the durable queue in `dataDir` instead of sending directly. */
  readonly queue: boolean;
  /** The console's data dir: the queue, the server profiles and the client key. */
  readonly dataDir: string;
  /** How long `--queue` waits for delivery, ms. */
  readonly waitMs: number;
  /** How long to wait for the server's first health reply, ms. */
  readonly connectTimeoutMs: number;
  /** Default reply timeout, ms (spawn and action add their own `--timeout`; batch doubles it). */
  readonly replyTimeoutMs: number;
  /** `--queue`: never send after this many ms from now; null = no deadline. */
  readonly expiresInMs: number | null;
  /** `--queue`: pending commands allowed per server; null = the queue's default (1000). */
  readonly maxPending: number | null;
  /** Indent the JSON output. */
  readonly pretty: boolean;
}

export type CtlInvocation =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly command: CtlCommand; readonly options: CtlOptions };

/** A command line that cannot be run; the message names the argument. Exit code 2. */
export class CtlUsageError extends Error {
  override readonly name = 'CtlUsageError';
}

interface FlagSpec {
  /** Takes a value (`--flag V` or `--flag=V`); otherwise a switch. */
  readonly value: boolean;
  /** May be given more than once (values collected in order). */
  readonly repeat?: boolean;
}

const GLOBAL_FLAGS: Readonly<Record<string, FlagSpec>> = {
  '--server': { value: true },
  '--server-key': { value: true },
  '--queue': { value: false },
  '--data-dir': { value: true },
  '--wait': { value: true },
  '--connect-timeout': { value: true },
  '--reply-timeout': { value: true },
  '--expires': { value: true },
  '--max-pending': { value: true },
  '--pretty': { value: false },
};

/**
 * Flags that only mean something with `--queue` (or for `ctl queue …`). Not `--data-dir`: a
 * direct command finds the console's client key and pinned server keys there.
 */
const QUEUE_ONLY = ['--wait', '--expires', '--max-pending'] as const;

const COMMAND_FLAGS: Readonly<Record<string, Readonly<Record<string, FlagSpec>>>> = {
  health: {},
  list: { '--status': { value: true }, '--limit': { value: true } },
  spawn: {
    '--backend': { value: true },
    '--task': { value: true },
    '--name': { value: true },
    '--model': { value: true },
    '--context': { value: true },
    '--system-prompt': { value: true },
    '--tool-level': { value: true },
    '--env': { value: true, repeat: true },
    '--meta': { value: true, repeat: true },
    '--timeout': { value: true },
  },
  control: {
    '--payload': { value: true },
    '--force': { value: false },
    '--data': { value: true },
    '--line': { value: true },
    '--signal': { value: true },
  },
  action: { '--params': { value: true }, '--timeout': { value: true } },
  batch: { '--payload': { value: true }, '--force': { value: false }, '--fail-fast': { value: false } },
  query: {
    '--stream': { value: true },
    '--filter': { value: true },
    '--limit': { value: true },
    '--offset': { value: true },
  },
  'queue list': { '--state': { value: true }, '--limit': { value: true } },
  'queue history': { '--limit': { value: true } },
  'queue cancel': {},
  'queue retry': {},
  'queue discard': {},
  'queue dismiss': {},
  'queue flush': {},
  key: {},
};

const SIGNALS = ['interrupt', 'terminate', 'kill', 'stop', 'continue'] as const;

export interface ParseEnv {
  /** `DESCARTES_SERVER`: the default for `--server`. */
  readonly server?: string | undefined;
  /** The default data directory (`defaultDataDir()`). */
  readonly dataDir: string;
}

/**
 * Parses the arguments after `ctl` (flags may come before or after the command).
 * @throws CtlUsageError naming the argument that is wrong and what is expected
 */
export function parseCtlArgs(argv: readonly string[], env: ParseEnv): CtlInvocation {
  if (argv.some((a) => a === '--help' || a === '-h') || argv[0] === 'help') return { kind: 'help' };
  const positionals: string[] = [];
  const raw: { flag: string; value: string | null; inline: boolean }[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (onlyPositionals || !arg.startsWith('--')) {
      positionals.push(arg);
    } else if (arg === '--') {
      onlyPositionals = true;
    } else if (arg.indexOf('=') > 0) {
      const eq = arg.indexOf('=');
      raw.push({ flag: arg.slice(0, eq), value: arg.slice(eq + 1), inline: true });
    } else if (takesValue(arg)) {
      const next = argv[i + 1];
      const value = next === undefined || next.startsWith('--') ? null : next;
      if (value !== null) i++;
      raw.push({ flag: arg, value, inline: false });
    } else {
      raw.push({ flag: arg, value: null, inline: false });
    }
  }

  const [word, ...rest] = positionals;
  if (word === undefined) throw new CtlUsageError('missing command (try --help)');
  let name = word;
  let args = rest;
  if (word === 'queue') {
    const sub = rest[0];
    if (sub === undefined) {
      throw new CtlUsageError(
        "'queue' needs a subcommand: list, history, cancel, retry, discard, dismiss or flush",
      );
    }
    name = `queue ${sub}`;
    args = rest.slice(1);
  }
  const own = COMMAND_FLAGS[name];
  if (own === undefined) {
    throw new CtlUsageError(
      word === 'queue'
        ? `unknown queue subcommand '${rest[0] ?? ''}' (expected list, history, cancel, retry, discard, dismiss or flush)`
        : `unknown command '${word}' (expected health, list, spawn, control, action, batch, query, queue or key)`,
    );
  }
  const flags = new Map<string, string[]>();
  for (const { flag, value, inline } of raw) {
    const spec = own[flag] ?? GLOBAL_FLAGS[flag];
    if (spec === undefined) throw new CtlUsageError(`unknown option ${flag} for '${name}' (try --help)`);
    if (spec.value && (value === null || value === '')) throw new CtlUsageError(`${flag} needs a value`);
    if (!spec.value && inline) throw new CtlUsageError(`${flag} is a switch and takes no value`);
    const list = flags.get(flag) ?? [];
    if (list.length > 0 && spec.repeat !== true) throw new CtlUsageError(`${flag} given twice`);
    list.push(value ?? '');
    flags.set(flag, list);
  }

  const f = new Flags(flags);
  const options = parseOptions(f, env, name);
  const command = parseCommand(name, args, f);
  if (options.queue && (command.kind === 'health' || command.kind === 'list' || command.kind === 'query')) {
    throw new CtlUsageError(`'${name}' is a query and queries are never queued; drop --queue`);
  }
  if (command.kind === 'key') {
    // It reads a file and talks to no server: flags about servers would be ignored silently.
    const stray = f.names().filter((flag) => flag !== '--data-dir' && flag !== '--pretty');
    if (stray.length > 0) throw new CtlUsageError(`${stray[0] ?? ''} does not apply to 'key'`);
  }
  if (name.startsWith('queue ') && f.has('--server-key')) {
    // Queued commands go out with the security of their server's profile.
    throw new CtlUsageError(`--server-key does not apply to '${name}'`);
  }
  if (!options.queue && !name.startsWith('queue ')) {
    for (const flag of QUEUE_ONLY) {
      if (f.has(flag)) throw new CtlUsageError(`${flag} only applies with --queue or to 'ctl queue …'`);
    }
  }
  if (name.startsWith('queue ') && name !== 'queue flush') {
    for (const flag of ['--wait', '--expires', '--max-pending', '--connect-timeout', '--reply-timeout']) {
      if (f.has(flag)) throw new CtlUsageError(`${flag} does not apply to '${name}'`);
    }
  }
  return { kind: 'run', command, options };
}

/** Every flag that takes a value, in any command (a value flag's value is never a positional). */
function takesValue(flag: string): boolean {
  if (GLOBAL_FLAGS[flag]?.value === true) return true;
  return Object.values(COMMAND_FLAGS).some((table) => table[flag]?.value === true);
}

class Flags {
  constructor(private readonly values: Map<string, string[]>) {}
  has(flag: string): boolean {
    return this.values.has(flag);
  }
  get(flag: string): string | null {
    return this.values.get(flag)?.[0] ?? null;
  }
  all(flag: string): string[] {
    return this.values.get(flag) ?? [];
  }
  names(): string[] {
    return [...this.values.keys()];
  }
}

function parseOptions(f: Flags, env: ParseEnv, name: string): CtlOptions {
  const fromEnv = env.server !== undefined && env.server !== '' ? env.server : null;
  const server = f.get('--server') ?? fromEnv ?? DEFAULT_SERVER;
  if (parseTcpEndpoint(server) === null) {
    throw new CtlUsageError(`--server must look like tcp://host:port (port 1-65535), got '${server}'`);
  }
  const dataDir = f.get('--data-dir') ?? env.dataDir;
  const serverKeyText = f.get('--server-key');
  let serverKey: string | null = null;
  if (serverKeyText !== null) {
    try {
      serverKey = parseCurveKey(serverKeyText, '--server-key');
    } catch (e) {
      if (e instanceof CurveKeyError) throw new CtlUsageError(e.message);
      throw e;
    }
  }
  const expires = f.get('--expires');
  const maxPending = f.get('--max-pending');
  return {
    server,
    serverGiven: f.has('--server') || fromEnv !== null,
    serverKey,
    queue: f.has('--queue') || name.startsWith('queue '),
    dataDir,
    waitMs: seconds('--wait', f.get('--wait'), 10),
    connectTimeoutMs: seconds('--connect-timeout', f.get('--connect-timeout'), 3),
    replyTimeoutMs: Math.max(
      1,
      seconds('--reply-timeout', f.get('--reply-timeout'), DEFAULT_REPLY_TIMEOUT_MS / 1000),
    ),
    expiresInMs: expires === null ? null : Math.max(1, seconds('--expires', expires, 0)),
    maxPending: maxPending === null ? null : integer('--max-pending', maxPending, 1, 1_000_000),
    pretty: f.has('--pretty'),
  };
}

function parseCommand(name: string, args: readonly string[], f: Flags): CtlCommand {
  switch (name) {
    case 'health':
      expectArgs(name, args, []);
      return { kind: 'health' };
    case 'list': {
      expectArgs(name, args, []);
      const status = f.get('--status');
      const limit = f.get('--limit');
      return {
        kind: 'list',
        status: status === null ? null : oneOf('--status', status, AGENT_STATUSES),
        limit:
          limit === null
            ? null
            : (gui(
                schemas.listAgents.shape.limit,
                integer('--limit', limit, 0, Number.MAX_SAFE_INTEGER),
                '--limit',
              ) ?? null),
      };
    }
    case 'spawn':
      return parseSpawn(args, f);
    case 'control':
      return parseControl(args, f);
    case 'action': {
      const [agent = '', action = ''] = expectArgs(name, args, ['<agent>', '<action>']);
      const timeout = f.get('--timeout');
      return {
        kind: 'action',
        agentId: agentId(agent),
        action: gui(schemas.sendAction.shape.action, action, '<action>'),
        params: json('--params', f.get('--params')),
        timeoutSecs: timeout === null ? null : integer('--timeout', timeout, 1, 86_400),
      };
    }
    case 'batch': {
      const [type, ...agents] = args;
      if (type === undefined)
        throw new CtlUsageError("'batch' needs a command type and at least one agent id");
      if (agents.length === 0)
        throw new CtlUsageError("'batch' needs at least one agent id after the command type");
      const commandType = oneOf('command type', type, CONTROL_COMMAND_TYPES);
      return {
        kind: 'batch',
        commandType,
        agentIds: agents.map(agentId),
        payload: controlPayload(commandType, f),
        failFast: f.has('--fail-fast'),
      };
    }
    case 'query': {
      const [agent = ''] = expectArgs(name, args, ['<agent>']);
      const limit = f.get('--limit');
      const offset = f.get('--offset');
      return {
        kind: 'query',
        agentId: agentId(agent),
        stream: oneOf('--stream', f.get('--stream') ?? 'both', OUTPUT_STREAMS),
        filter: gui(schemas.queryOutput.shape.filter, f.get('--filter'), '--filter') ?? null,
        limit: limit === null ? null : integer('--limit', limit, 0, 10_000),
        offset: offset === null ? null : integer('--offset', offset, 0, Number.MAX_SAFE_INTEGER),
      };
    }
    case 'queue list': {
      expectArgs(name, args, []);
      const state = f.get('--state');
      return {
        kind: 'queue_list',
        states:
          state === null
            ? ['queued', 'sending']
            : state === 'all'
              ? COMMAND_STATES
              : state.split(',').map((s) => oneOf('--state', s.trim(), COMMAND_STATES)),
        limit: integer('--limit', f.get('--limit') ?? '1000', 1, 10_000),
      };
    }
    case 'queue history':
      expectArgs(name, args, []);
      return { kind: 'queue_history', limit: integer('--limit', f.get('--limit') ?? '100', 1, 10_000) };
    case 'queue cancel':
    case 'queue retry': {
      const [id = ''] = expectArgs(name, args, ['<request_id>']);
      const normalized = normalizeUuid(id);
      if (normalized === null) throw new CtlUsageError(`request id must be a UUID, got '${id}'`);
      return name === 'queue cancel'
        ? { kind: 'queue_cancel', id: normalized }
        : { kind: 'queue_retry', id: normalized };
    }
    case 'queue discard': {
      const [key = ''] = expectArgs(name, args, ['<entry | request_id>']);
      // Entry numbers are what `queue list` prints; a request id works when it is readable.
      if (/^[0-9]+$/.test(key))
        return { kind: 'queue_discard', key: integer('entry', key, 1, Number.MAX_SAFE_INTEGER) };
      const id = normalizeUuid(key);
      if (id === null) {
        throw new CtlUsageError(`expected a quarantine entry number or a request id (UUID), got '${key}'`);
      }
      return { kind: 'queue_discard', key: id };
    }
    case 'queue dismiss': {
      const [notice = ''] = expectArgs(name, args, ['<notice>']);
      return { kind: 'queue_dismiss', notice: integer('notice', notice, 1, Number.MAX_SAFE_INTEGER) };
    }
    case 'queue flush':
      expectArgs(name, args, []);
      return { kind: 'queue_flush' };
    case 'key':
      expectArgs(name, args, []);
      return { kind: 'key' };
    default:
      throw new CtlUsageError(`unknown command '${name}'`);
  }
}

function parseSpawn(args: readonly string[], f: Flags): CtlCommand {
  expectArgs('spawn', args, []);
  const backend = f.get('--backend');
  const task = f.get('--task');
  if (backend === null)
    throw new CtlUsageError("'spawn' needs --backend NAME (e.g. claude, opencode, shell)");
  if (task === null) throw new CtlUsageError("'spawn' needs --task TEXT");
  const timeout = f.get('--timeout');
  const meta = pairs('--meta', f.all('--meta'));
  const given: SpawnSpec = {
    name: f.get('--name') ?? backend,
    model_backend: backend,
    task,
    model: f.get('--model'),
    context: f.get('--context'),
    system_prompt: f.get('--system-prompt'),
    tool_level: f.get('--tool-level'),
    environment: pairs('--env', f.all('--env')),
  };
  // The schema's output, not `given`: it is what the window would send (names trimmed).
  const config: SpawnSpec = { ...given, ...gui(schemas.spawnAgent.shape.config, given, SPAWN_FLAGS) };
  return {
    kind: 'spawn',
    config,
    timeoutSecs: timeout === null ? null : integer('--timeout', timeout, 1, 86_400),
    metadata: Object.keys(meta).length === 0 ? null : meta,
  };
}

function parseControl(args: readonly string[], f: Flags): CtlCommand {
  const [agent = '', type = ''] = expectArgs('control', args, ['<agent>', '<command>']);
  const commandType = oneOf('command', type, CONTROL_COMMAND_TYPES);
  return { kind: 'control', agentId: agentId(agent), commandType, payload: controlPayload(commandType, f) };
}

/** The payload of a control command from `--payload` or one of its shorthands. */
function controlPayload(commandType: ControlCommandType, f: Flags): JsonValue {
  const given = ['--payload', '--force', '--data', '--line', '--signal'].filter((flag) => f.has(flag));
  if (given.length > 1)
    throw new CtlUsageError(`${given.join(' and ')} cannot be combined; give one of them`);
  const shorthand = (flag: string, allowed: readonly ControlCommandType[]): void => {
    if (f.has(flag) && !allowed.includes(commandType)) {
      throw new CtlUsageError(`${flag} applies to ${allowed.join('/')}, not to ${commandType}`);
    }
  };
  shorthand('--force', ['pause', 'resume']);
  shorthand('--data', ['write_stdin']);
  shorthand('--line', ['write_stdin']);
  shorthand('--signal', ['signal']);
  if (f.has('--force')) return { force: true };
  const data = f.get('--data');
  if (data !== null) return { data };
  const line = f.get('--line');
  if (line !== null) return { data: `${line}\n` };
  const signal = f.get('--signal');
  if (signal !== null) return { signal: oneOf('--signal', signal, SIGNALS) };
  return json('--payload', f.get('--payload'));
}

/** Checks the count of positional arguments; the result has exactly `names.length` entries. */
function expectArgs(name: string, args: readonly string[], names: readonly string[]): string[] {
  if (args.length < names.length) {
    throw new CtlUsageError(
      `'${name}' needs ${names.slice(args.length).join(' ')} (usage: ctl ${name} ${names.join(' ')})`,
    );
  }
  if (args.length > names.length) {
    throw new CtlUsageError(
      `'${name}' takes ${names.length === 0 ? 'no arguments' : names.join(' ')}, got extra '${args[names.length] ?? ''}'`,
    );
  }
  return names.map((_, i) => args[i] ?? '');
}

/** The ctl flag behind each field of a spawn's config, for messages. */
const SPAWN_FLAGS: Readonly<Record<keyof SpawnSpec, string>> = {
  name: '--name',
  model_backend: '--backend',
  task: '--task',
  model: '--model',
  context: '--context',
  system_prompt: '--system-prompt',
  tool_level: '--tool-level',
  environment: '--env',
};

/**
 * Checks `value` with the console's own IPC schema for the same input (`shared/ipc/schemas`), so
 * ctl accepts exactly what the GUI accepts.
 * @param flag the ctl flag or argument the value came from, or one per field of an object
 * @throws CtlUsageError naming the flag (and key, e.g. `--env BAD-NAME`) and the schema's reason
 */
function gui<S extends z.ZodType>(
  schema: S,
  value: z.input<S>,
  flag: string | Readonly<Record<string, string>>,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined)
    throw new CtlUsageError(`${typeof flag === 'string' ? flag : 'input'} is not valid`);
  const [field, ...rest] = issue.path.map(String);
  const name =
    typeof flag === 'string'
      ? [flag, field, ...rest]
      : [field === undefined ? 'input' : (flag[field] ?? field), ...rest];
  throw new CtlUsageError(`${name.filter((n) => n !== undefined).join(' ')}: ${issueMessage(issue)}`);
}

function agentId(text: string): string {
  const id = normalizeUuid(text);
  if (id === null) throw new CtlUsageError(`agent id must be a UUID, got '${text}'`);
  return id;
}

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined)
    throw new CtlUsageError(`${what} must be one of ${allowed.join(', ')}; got '${value}'`);
  return found;
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new CtlUsageError(`${flag} needs a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new CtlUsageError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/** Seconds (decimals allowed) as ms. */
function seconds(flag: string, text: string | null, fallback: number): number {
  if (text === null) return fallback * 1000;
  if (!/^\d+(\.\d+)?$/.test(text))
    throw new CtlUsageError(`${flag} needs a number of seconds, got '${text}'`);
  const ms = Math.round(Number(text) * 1000);
  if (ms > 86_400_000) throw new CtlUsageError(`${flag} must be at most 86400 seconds, got ${text}`);
  return ms;
}

function json(flag: string, text: string | null): JsonValue {
  if (text === null) return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    throw new CtlUsageError(
      `${flag} is not valid JSON (${e instanceof Error ? e.message : String(e)}): ${text}`,
    );
  }
}

function pairs(flag: string, values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new CtlUsageError(`${flag} needs KEY=VALUE, got '${v}'`);
    const key = v.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new CtlUsageError(`${flag} ${key} given twice`);
    out[key] = v.slice(eq + 1);
  }
  return out;
}
