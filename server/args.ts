/** Command-line options of `descartes-server` (all optional; defaults applied by the server). */
export interface ServerArgs {
  readonly bind: string;
  readonly pub: string;
  readonly configFile: string | null;
  readonly serverId: string | null;
  readonly heartbeatMs: number | null;
  readonly maxAgents: number | null;
  readonly stateDir: string | null;
  readonly execLog: string | null;
  /** Stop when this process is gone (the console that started us as its embedded server). */
  readonly parentPid: number | null;
}

export type ParsedArgs = { readonly kind: 'run'; readonly args: ServerArgs } | { readonly kind: 'help' };

/** A command line that cannot be parsed; the message names the flag. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const DEFAULT_BIND = 'tcp://127.0.0.1:5555';
export const DEFAULT_PUB = 'tcp://127.0.0.1:5556';

export const USAGE = `Usage: npm run server -- [options]

  --bind ENDPOINT      ROUTER command socket (default ${DEFAULT_BIND})
  --pub ENDPOINT       PUB event socket (default ${DEFAULT_PUB})
  --config FILE        JSON config: backends, max_agents, heartbeat_ms, line_store, action_timeout_secs
  --server-id ID       server id in replies (default srv-<8 hex>)
  --heartbeat-ms N     PUB heartbeat interval in ms (default 5000)
  --max-agents N       most agents running at once (default 100)
  --state-dir DIR      keep the dedupe journal in DIR so dedupe survives a restart
  --exec-log FILE      append one JSON line per executed mutating request
  --parent-pid PID     shut down gracefully when process PID is gone (embedded use)
  --help               show this help

Listens on loopback unless told otherwise. SIGINT/SIGTERM stop agents and exit.`;

const VALUE_FLAGS = [
  '--bind',
  '--pub',
  '--config',
  '--server-id',
  '--heartbeat-ms',
  '--max-agents',
  '--state-dir',
  '--exec-log',
  '--parent-pid',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

function isValueFlag(flag: string): flag is ValueFlag {
  return (VALUE_FLAGS as readonly string[]).includes(flag);
}

function intValue(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new ArgsError(`${flag} needs a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new ArgsError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/**
 * Parses the arguments after the script name. Accepts `--flag value` and `--flag=value`.
 * @throws ArgsError for an unknown flag, a missing value, a repeated flag or a bad number
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<ValueFlag, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!isValueFlag(flag)) throw new ArgsError(`unknown argument '${arg}' (try --help)`);
    let value: string | undefined;
    if (flag !== arg) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || (flag === arg && value.startsWith('--'))) {
      throw new ArgsError(`${flag} needs a value`);
    }
    if (value === '') throw new ArgsError(`${flag} needs a non-empty value`);
    if (values.has(flag)) throw new ArgsError(`${flag} given twice`);
    values.set(flag, value);
  }
  const get = (flag: ValueFlag): string | null => values.get(flag) ?? null;
  const heartbeat = get('--heartbeat-ms');
  const maxAgents = get('--max-agents');
  const parentPid = get('--parent-pid');
  return {
    kind: 'run',
    args: {
      bind: get('--bind') ?? DEFAULT_BIND,
      pub: get('--pub') ?? DEFAULT_PUB,
      configFile: get('--config'),
      serverId: get('--server-id'),
      heartbeatMs: heartbeat === null ? null : intValue('--heartbeat-ms', heartbeat, 10, 86_400_000),
      maxAgents: maxAgents === null ? null : intValue('--max-agents', maxAgents, 1, 100_000),
      stateDir: get('--state-dir'),
      execLog: get('--exec-log'),
      parentPid: parentPid === null ? null : intValue('--parent-pid', parentPid, 1, 4_194_304),
    },
  };
}
