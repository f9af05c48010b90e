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
  /** Plain ZMTP, no authentication (`--insecure`). */
  readonly insecure: boolean;
  /** A client key to allow before starting (`--allow-client`; the embedded server's console). */
  readonly allowClient: string | null;
}

/** What the command line asks for: run the server, print help, or manage keys. */
export type ParsedArgs =
  | { readonly kind: 'run'; readonly args: ServerArgs }
  | { readonly kind: 'help' }
  | { readonly kind: 'key'; readonly stateDir: string | null }
  | {
      readonly kind: 'allow';
      readonly key: string;
      readonly name: string | null;
      readonly stateDir: string | null;
    }
  | { readonly kind: 'revoke'; readonly target: string; readonly stateDir: string | null }
  | { readonly kind: 'clients'; readonly stateDir: string | null };

/** A command line that cannot be parsed; the message names the flag. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const DEFAULT_BIND = 'tcp://127.0.0.1:5555';
export const DEFAULT_PUB = 'tcp://127.0.0.1:5556';

export const USAGE = `Usage: npm run server -- [options]
       npm run server -- key [--state-dir DIR]
       npm run server -- allow KEY [--name NAME] [--state-dir DIR]
       npm run server -- revoke KEY|NAME [--state-dir DIR]
       npm run server -- clients [--state-dir DIR]

Security (two modes):
  CURVE (default)      CurveZMQ on both sockets: traffic is encrypted, consoles check this
                       server's public key, and only client keys in DIR/authorized_clients may
                       connect or read events. The key pair is made on first start (DIR/server.key,
                       0600). \`key\` prints the public key to pin in the console; \`allow\` admits a
                       console's public key (\`npm run ctl -- key\` prints it), \`revoke\` removes one,
                       \`clients\` lists them. A running server applies changes within a second.
  --insecure           plain ZMTP: no encryption, no authentication, anyone who reaches the
                       ports runs commands. Only for Rust descartes 1.0.0 peers (they have no
                       CURVE) on a trusted network. Peers that are not ZMTP 3 (ZMTP/1.0, HTTP
                       requests a web page makes) are refused in both modes.

Options:
  --bind ENDPOINT      ROUTER command socket (default ${DEFAULT_BIND})
  --pub ENDPOINT       PUB event socket (default ${DEFAULT_PUB})
  --config FILE        JSON config (every key optional; see the README): backends (null
                       disables a built-in), cli_catch_all, inherit_env (which of this
                       server's variables agents get), expose_env_values, max_agents,
                       max_exited_agents, heartbeat_ms, line_store (max_lines, max_bytes,
                       max_line_bytes, total_bytes), query_budget_ms, max_concurrent_queries,
                       max_waiting_queries, action_timeout_secs, shutdown_grace_ms
  --server-id ID       server id in replies (default srv-<8 hex>)
  --heartbeat-ms N     PUB heartbeat interval in ms (default 5000)
  --max-agents N       most agents running at once (default 100)
  --state-dir DIR      key pair, allowed clients and dedupe journal (default: the platform's state
                       dir, e.g. ~/.local/state/descartes-server); one running server per DIR;
                       DIR is made 0700 and must be yours (not a symlink)
  --exec-log FILE      append one JSON line per executed mutating request
  --insecure           plain ZMTP without authentication (see Security)
  --allow-client KEY   allow this console key (named console-<8 hex>) before starting
  --parent-pid PID     shut down gracefully when process PID is gone (embedded use)
  --help               show this help

Listens on loopback unless told otherwise. SIGINT/SIGTERM stop agents and exit; when the
server dies any other way (kill -9, a crash), a watchdog process kills its agents.`;

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
  '--allow-client',
  '--name',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

const BOOLEAN_FLAGS = ['--insecure'] as const;
type BooleanFlag = (typeof BOOLEAN_FLAGS)[number];

const SUBCOMMANDS = ['key', 'allow', 'revoke', 'clients'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** Flags each subcommand accepts (besides --help). */
const SUBCOMMAND_FLAGS: Record<Subcommand, readonly string[]> = {
  key: ['--state-dir'],
  allow: ['--state-dir', '--name'],
  revoke: ['--state-dir'],
  clients: ['--state-dir'],
};

function isValueFlag(flag: string): flag is ValueFlag {
  return (VALUE_FLAGS as readonly string[]).includes(flag);
}

function intValue(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new ArgsError(`${flag} needs a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new ArgsError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

function isBooleanFlag(flag: string): flag is BooleanFlag {
  return (BOOLEAN_FLAGS as readonly string[]).includes(flag);
}

function isSubcommand(word: string): word is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(word);
}

/**
 * Parses the arguments after the script name. Accepts `--flag value` and `--flag=value`; a
 * first word `key`, `allow`, `revoke` or `clients` selects a key subcommand.
 * @throws ArgsError for an unknown flag or word, a missing value, a repeated flag or a bad number
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const first = argv[0];
  const sub = first !== undefined && isSubcommand(first) ? first : null;
  const words: string[] = [];
  const values = new Map<ValueFlag, string>();
  const switches = new Set<BooleanFlag>();
  for (let i = sub === null ? 0 : 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (isBooleanFlag(arg)) {
      if (sub !== null) throw new ArgsError(`${arg} is not an option of '${sub}' (try --help)`);
      if (switches.has(arg)) throw new ArgsError(`${arg} given twice`);
      switches.add(arg);
      continue;
    }
    if (sub !== null && !arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!isValueFlag(flag)) throw new ArgsError(`unknown argument '${arg}' (try --help)`);
    if (sub !== null && !SUBCOMMAND_FLAGS[sub].includes(flag)) {
      throw new ArgsError(`${flag} is not an option of '${sub}' (try --help)`);
    }
    if (sub === null && flag === '--name') throw new ArgsError(`--name belongs to 'allow' (try --help)`);
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
  if (sub !== null) return subcommand(sub, words, get);
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
      insecure: switches.has('--insecure'),
      allowClient: get('--allow-client'),
    },
  };
}

function subcommand(
  sub: Subcommand,
  words: readonly string[],
  get: (flag: ValueFlag) => string | null,
): ParsedArgs {
  const stateDir = get('--state-dir');
  const wanted = sub === 'allow' || sub === 'revoke' ? 1 : 0;
  if (words.length !== wanted) {
    const what = sub === 'allow' ? 'a client public key' : 'a client public key or name';
    throw new ArgsError(
      wanted === 0
        ? `'${sub}' takes no argument, got '${words.join(' ')}'`
        : words.length === 0
          ? `'${sub}' needs ${what}`
          : `'${sub}' takes one argument, got ${words.length} (quote the key: Z85 keys contain characters the shell reads)`,
    );
  }
  const word = words[0] ?? '';
  switch (sub) {
    case 'key':
    case 'clients':
      return { kind: sub, stateDir };
    case 'allow':
      return { kind: 'allow', key: word, name: get('--name'), stateDir };
    case 'revoke':
      return { kind: 'revoke', target: word, stateDir };
  }
}
