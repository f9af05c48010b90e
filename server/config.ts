import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Placeholders an argv template may use; each is replaced by the AgentConfig field of that name. */
export const TEMPLATE_PLACEHOLDERS = ['task', 'model', 'name', 'system_prompt', 'tool_level'] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/**
 * How a backend's agents are paused (docs/PROTOCOL.md §4.1): `signal` stops the process with
 * SIGSTOP (every built-in backend); `cooperative` asks the agent on stdin and waits for its
 * acknowledgement line.
 */
export const PAUSE_STYLES = ['signal', 'cooperative'] as const;
export type PauseStyle = (typeof PAUSE_STYLES)[number];

/** A backend from the config file: an argv template plus extra environment variables. `null` in the file disables a built-in backend of that name. */
export interface BackendSpec {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Config `pause`; left out: `signal`. */
  readonly pause?: PauseStyle;
}

/** Bounds of each agent's output line store. */
export interface LineStoreLimits {
  /** Most lines kept (both streams together); older lines are evicted. */
  readonly maxLines: number;
  /** Most UTF-8 bytes kept (line contents, without newlines). */
  readonly maxBytes: number;
  /** A longer line is split into pieces of at most this many bytes. */
  readonly maxLineBytes: number;
}

/** The validated config file; every key is optional in the file and defaulted here. */
export interface ServerConfig {
  /**
   * Backends by name; they override the built-in backends of the same name. `null` disables
   * the built-in of that name (e.g. `"shell": null`).
   */
  readonly backends: Readonly<Record<string, BackendSpec | null>>;
  /** Whether an unknown backend `<program>-cli` runs `<program> {task}` (config `cli_catch_all`, default off). */
  readonly cliCatchAll: boolean;
  /**
   * Names of the server's environment variables agents inherit (config `inherit_env`); an
   * entry ending in `*` matches by prefix (`LC_*`). Everything else is withheld.
   */
  readonly inheritEnv: readonly string[];
  /** Whether the `get_env` action returns values; by default it returns names only. */
  readonly exposeEnvValues: boolean;
  /** Most exited agents whose records and output are kept; the oldest exited go first. */
  readonly maxExitedAgents: number;
  readonly maxAgents: number;
  /** Interval of PUB heartbeats, in milliseconds. */
  readonly heartbeatMs: number;
  readonly lineStore: LineStoreLimits;
  /**
   * Most UTF-8 bytes of output kept by all agents of the server together (config
   * `line_store.total_bytes`, default 512 MiB). Over it, exited agents' oldest output goes
   * first, then running agents' oldest lines.
   */
  readonly totalOutputBytes: number;
  /** Default timeout of forwarded custom actions, in seconds. */
  readonly actionTimeoutSecs: number;
  /**
   * Run-time budget of one regex output query in its worker thread, in milliseconds (config
   * `query_budget_ms`, default 2000); time spent waiting for a worker is not counted. Over it the
   * worker is stopped and the query fails with an error naming the budget.
   */
  readonly queryBudgetMs: number;
  /** Most regex output queries run at once (each in a worker thread); config `max_concurrent_queries`. */
  readonly maxConcurrentQueries: number;
  /** Most regex queries waiting for a worker; one more is refused with a clear error. Config `max_waiting_queries`. */
  readonly maxWaitingQueries: number;
  /** Grace period between SIGTERM and SIGKILL at shutdown, in milliseconds. */
  readonly shutdownGraceMs: number;
  /**
   * Most bytes of agent output kept on disk in the state dir, all agents together (config
   * `persist_output_bytes`, default 256 MiB; 0 keeps no output on disk, records only). Over it
   * the oldest output file goes first and its lines count as dropped.
   */
  readonly persistOutputBytes: number;
}

export const DEFAULT_LINE_STORE_LIMITS: LineStoreLimits = {
  maxLines: 100_000,
  maxBytes: 32 * 1024 * 1024,
  maxLineBytes: 64 * 1024,
};

/**
 * Default `max_concurrent_queries`: one regex worker per core but one, so a core stays free for
 * the event loop (health checks, every other client) while scans run; at least 1, at most 4.
 */
export function defaultQueryConcurrency(cores: number = availableParallelism()): number {
  return Math.min(4, Math.max(1, cores - 1));
}

/** Variables agents inherit from the server by default, on every platform. */
export const DEFAULT_INHERIT_ENV_POSIX: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_*',
  'TERM',
  'TZ',
  'TMPDIR',
  'SHELL',
];

/** Windows needs these for programs to start at all (and `cmd.exe` to be found). */
export const DEFAULT_INHERIT_ENV_WINDOWS_EXTRA: readonly string[] = ['SystemRoot', 'ComSpec', 'PATHEXT'];

/** The default `inherit_env` for a platform. */
export function defaultInheritEnv(platform: NodeJS.Platform = process.platform): readonly string[] {
  return platform === 'win32'
    ? [...DEFAULT_INHERIT_ENV_POSIX, ...DEFAULT_INHERIT_ENV_WINDOWS_EXTRA]
    : DEFAULT_INHERIT_ENV_POSIX;
}

export const DEFAULT_CONFIG: ServerConfig = {
  backends: {},
  cliCatchAll: false,
  inheritEnv: defaultInheritEnv(),
  exposeEnvValues: false,
  maxExitedAgents: 200,
  maxAgents: 100,
  heartbeatMs: 5000,
  lineStore: DEFAULT_LINE_STORE_LIMITS,
  totalOutputBytes: 512 * 1024 * 1024,
  actionTimeoutSecs: 30,
  queryBudgetMs: 2000,
  maxConcurrentQueries: defaultQueryConcurrency(),
  maxWaitingQueries: 32,
  shutdownGraceMs: 3000,
  persistOutputBytes: 256 * 1024 * 1024,
};

/** A config file that cannot be read or is not valid; the message names the file and key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const TOP_KEYS = [
  'backends',
  'cli_catch_all',
  'inherit_env',
  'expose_env_values',
  'max_exited_agents',
  'query_budget_ms',
  'max_concurrent_queries',
  'max_waiting_queries',
  'max_agents',
  'heartbeat_ms',
  'line_store',
  'action_timeout_secs',
  'query_timeout_ms',
  'shutdown_grace_ms',
  'persist_output_bytes',
] as const;
const LINE_STORE_KEYS = ['max_lines', 'max_bytes', 'max_line_bytes', 'total_bytes'] as const;
const BACKEND_KEYS = ['argv', 'env', 'pause'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${where}: unknown key '${key}' (allowed: ${allowed.join(', ')})`);
    }
  }
}

function bool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean')
    throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Checks an `inherit_env` list: variable names, each optionally ending in `*` (a prefix match).
 * @throws ConfigError naming the bad entry
 */
export function validateInheritEnv(value: unknown, key: string): string[] {
  if (!Array.isArray(value))
    throw new ConfigError(`${key} must be an array of variable names (e.g. ["PATH", "LC_*"])`);
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*\*?$|^\*$/.test(entry)) {
      throw new ConfigError(
        `${key}[${i}] must be a variable name, optionally ending in '*' for a prefix, got ${JSON.stringify(entry)}`,
      );
    }
    return entry;
  });
}

function positiveInt(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `fallback` when the key is left out, else {@link positiveInt}. */
function intOr(value: unknown, fallback: number, key: string, min: number, max: number): number {
  return value === undefined ? fallback : positiveInt(value, key, min, max);
}

/**
 * Checks an argv template: a non-empty array of strings whose `{placeholders}` are known.
 * @throws ConfigError naming `key`
 */
export function validateArgvTemplate(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(`${key} must be a non-empty array of strings`);
  }
  const argv: string[] = [];
  value.forEach((element: unknown, i) => {
    if (typeof element !== 'string') throw new ConfigError(`${key}[${i}] must be a string`);
    for (const match of element.matchAll(/\{([a-z_]+)\}/g)) {
      const name = match[1] ?? '';
      if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
        throw new ConfigError(
          `${key}[${i}]: unknown placeholder '{${name}}' (known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
        );
      }
    }
    argv.push(element);
  });
  if (argv[0] === '') throw new ConfigError(`${key}[0] (the program) must not be empty`);
  return argv;
}

/**
 * Checks a backend's `pause` style.
 * @throws ConfigError naming `key` and the allowed values
 */
export function pauseStyle(value: unknown, key: string): PauseStyle {
  if (typeof value !== 'string' || !(PAUSE_STYLES as readonly string[]).includes(value)) {
    throw new ConfigError(
      `${key} must be ${PAUSE_STYLES.map((p) => `"${p}"`).join(' or ')} (cooperative: the agent acknowledges pause and resume on stdout, docs/PROTOCOL.md §4.1), got ${JSON.stringify(value)}`,
    );
  }
  return value as PauseStyle;
}

/**
 * Checks an environment map: string values, names without `=` or NUL.
 * @throws ConfigError naming `key`
 */
export function validateEnv(value: unknown, key: string): Record<string, string> {
  if (!isObject(value)) throw new ConfigError(`${key} must be an object of strings`);
  const env: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new ConfigError(`${key}: invalid variable name ${JSON.stringify(name)}`);
    }
    if (typeof v !== 'string' || v.includes('\0')) {
      throw new ConfigError(`${key}.${name} must be a string without NUL`);
    }
    env[name] = v;
  }
  return env;
}

/**
 * Validates parsed config JSON (README.md, "The agent server": all keys optional).
 * @param source file name used in error messages
 * @throws ConfigError naming the offending key
 */
export function validateConfig(json: unknown, source = 'config'): ServerConfig {
  const fail = (message: string): never => {
    throw new ConfigError(`${source}: ${message}`);
  };
  if (!isObject(json)) return fail('the top level must be a JSON object');
  try {
    checkKeys(json, TOP_KEYS, 'top level');
    const backends: Record<string, BackendSpec | null> = {};
    if (json.backends !== undefined) {
      if (!isObject(json.backends)) fail('backends must be an object of name → {argv, env}');
      for (const [name, spec] of Object.entries(json.backends as Record<string, unknown>)) {
        const key = `backends.${name}`;
        if (!/^[A-Za-z0-9_.-]+$/.test(name))
          fail(`${key}: a backend name uses letters, digits, '_', '.', '-'`);
        if (spec === null) {
          backends[name] = null;
          continue;
        }
        if (!isObject(spec)) return fail(`${key} must be an object {argv, env}, or null to disable it`);
        checkKeys(spec, BACKEND_KEYS, key);
        backends[name] = {
          argv: validateArgvTemplate(spec.argv, `${key}.argv`),
          env: spec.env === undefined ? {} : validateEnv(spec.env, `${key}.env`),
          ...(spec.pause === undefined ? {} : { pause: pauseStyle(spec.pause, `${key}.pause`) }),
        };
      }
    }
    let lineStore = DEFAULT_LINE_STORE_LIMITS;
    let totalOutputBytes = DEFAULT_CONFIG.totalOutputBytes;
    if (json.line_store !== undefined) {
      const ls = json.line_store;
      if (!isObject(ls)) return fail('line_store must be an object');
      checkKeys(ls, LINE_STORE_KEYS, 'line_store');
      lineStore = {
        maxLines: intOr(ls.max_lines, lineStore.maxLines, 'line_store.max_lines', 1, 50_000_000),
        maxBytes: intOr(ls.max_bytes, lineStore.maxBytes, 'line_store.max_bytes', 1, 2 ** 40),
        maxLineBytes: intOr(
          ls.max_line_bytes,
          lineStore.maxLineBytes,
          'line_store.max_line_bytes',
          16,
          8 * 1024 * 1024,
        ),
      };
      if (ls.total_bytes !== undefined) {
        totalOutputBytes = positiveInt(ls.total_bytes, 'line_store.total_bytes', 1024, 2 ** 40);
      }
    }
    const d = DEFAULT_CONFIG;
    if (json.query_budget_ms !== undefined && json.query_timeout_ms !== undefined) {
      fail('query_timeout_ms is the old name of query_budget_ms; set only query_budget_ms');
    }
    const budget = json.query_budget_ms ?? json.query_timeout_ms;
    const budgetKey = json.query_budget_ms === undefined ? 'query_timeout_ms' : 'query_budget_ms';
    return {
      backends,
      cliCatchAll:
        json.cli_catch_all === undefined ? d.cliCatchAll : bool(json.cli_catch_all, 'cli_catch_all'),
      inheritEnv:
        json.inherit_env === undefined ? d.inheritEnv : validateInheritEnv(json.inherit_env, 'inherit_env'),
      exposeEnvValues:
        json.expose_env_values === undefined
          ? d.exposeEnvValues
          : bool(json.expose_env_values, 'expose_env_values'),
      maxExitedAgents: intOr(json.max_exited_agents, d.maxExitedAgents, 'max_exited_agents', 0, 100_000),
      queryBudgetMs: intOr(budget, d.queryBudgetMs, budgetKey, 1, 60_000),
      maxConcurrentQueries: intOr(
        json.max_concurrent_queries,
        d.maxConcurrentQueries,
        'max_concurrent_queries',
        1,
        64,
      ),
      maxWaitingQueries: intOr(
        json.max_waiting_queries,
        d.maxWaitingQueries,
        'max_waiting_queries',
        0,
        10_000,
      ),
      maxAgents: intOr(json.max_agents, d.maxAgents, 'max_agents', 1, 100_000),
      heartbeatMs: intOr(json.heartbeat_ms, d.heartbeatMs, 'heartbeat_ms', 10, 86_400_000),
      lineStore,
      totalOutputBytes,
      actionTimeoutSecs: intOr(
        json.action_timeout_secs,
        d.actionTimeoutSecs,
        'action_timeout_secs',
        1,
        86_400,
      ),
      shutdownGraceMs: intOr(json.shutdown_grace_ms, d.shutdownGraceMs, 'shutdown_grace_ms', 0, 600_000),
      persistOutputBytes: intOr(
        json.persist_output_bytes,
        d.persistOutputBytes,
        'persist_output_bytes',
        0,
        2 ** 40,
      ),
    };
  } catch (error) {
    if (error instanceof ConfigError && !error.message.startsWith(`${source}: `)) {
      throw new ConfigError(`${source}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Reads and validates a JSON config file.
 * @throws ConfigError when the file cannot be read, is not JSON, or is invalid
 */
export function loadConfigFile(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`cannot read config file ${path}: ${code}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return validateConfig(json, path);
}
