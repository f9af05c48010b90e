/**
 * The one place that decides an agent's environment: which of the server's variables it
 * inherits, which names a spawn request may not set, and the precedence of the layers.
 */

/** A family of variables a spawn request may not set, and what setting one would do. */
interface ForbiddenRule {
  readonly patterns: readonly string[];
  readonly why: string;
}

/**
 * Why some variables are refused in a spawn request's `environment`: each makes a program run
 * or load code it was not asked to (`LD_PRELOAD`, `BASH_ENV=$(…)`, `NODE_OPTIONS=--require …`,
 * a `PATH` that finds another `sh`), so a client allowed to spawn only the server's fixed
 * backends could otherwise run anything. The operator's config file may set them.
 */
const FORBIDDEN_RULES: readonly ForbiddenRule[] = [
  { patterns: ['LD_*', 'DYLD_*'], why: 'they make the dynamic loader load other code' },
  { patterns: ['PATH'], why: 'it decides which program runs (set it inside the task instead)' },
  {
    patterns: [
      'BASH_ENV',
      'ENV',
      'BASH_FUNC_*',
      'SHELLOPTS',
      'BASHOPTS',
      'PS4',
      'IFS',
      'PROMPT_COMMAND',
      'ZDOTDIR',
    ],
    why: 'they make a shell run other code',
  },
  {
    patterns: ['NODE_OPTIONS', 'NODE_PATH', 'ELECTRON_*'],
    why: 'they make Node or Electron load other code',
  },
  {
    patterns: [
      'PYTHONSTARTUP',
      'PYTHONPATH',
      'PYTHONHOME',
      'PERL5OPT',
      'PERL5LIB',
      'PERLLIB',
      'RUBYOPT',
      'RUBYLIB',
      'JAVA_TOOL_OPTIONS',
      '_JAVA_OPTIONS',
      'JDK_JAVA_OPTIONS',
      'CLASSPATH',
      'PYTHONUSERBASE',
      'LUA_INIT',
      'LUA_INIT_*',
      'PHPRC',
      'PHP_INI_SCAN_DIR',
    ],
    why: 'they make an interpreter load other code',
  },
  {
    // Not GIT_AUTHOR_NAME and the like, which agents that commit need.
    patterns: [
      'GIT_SSH',
      'GIT_SSH_COMMAND',
      'GIT_EXEC_PATH',
      'GIT_CONFIG',
      'GIT_CONFIG_*',
      'GIT_PROXY_COMMAND',
      'GIT_EXTERNAL_DIFF',
      'GIT_PAGER',
      'GIT_EDITOR',
      'GIT_SEQUENCE_EDITOR',
      'GIT_ASKPASS',
      'GIT_TEMPLATE_DIR',
      'GIT_DIR',
      'GIT_COMMON_DIR',
      'GIT_TRACE*',
    ],
    why: 'they make git run other programs, read another repository or config, or write files',
  },
  {
    patterns: [
      'EDITOR',
      'VISUAL',
      'PAGER',
      'MANPAGER',
      'LESSOPEN',
      'LESSCLOSE',
      'BROWSER',
      'SSH_ASKPASS',
      'SUDO_ASKPASS',
    ],
    why: 'programs run the command they name',
  },
  {
    patterns: ['GCONV_PATH', 'OPENSSL_CONF', 'OPENSSL_ENGINES', 'PYTHONWARNINGS', 'NPM_CONFIG_*'],
    why: 'they make a library or tool load other code',
  },
  {
    patterns: ['HOME', 'XDG_CONFIG_HOME'],
    why: "they decide which dotfiles programs read, and dotfiles can name commands (set them in the backend's env in the server config)",
  },
];

/**
 * Names a spawn request's `environment` may not set (an entry ending in `*` is a prefix).
 * Matched without regard to case on every platform: Windows treats names so, and nobody needs
 * `ld_preload` elsewhere.
 */
export const FORBIDDEN_REQUEST_ENV: readonly string[] = FORBIDDEN_RULES.flatMap((r) => r.patterns);

/** What an agent's environment is built from, lowest precedence first. */
export interface AgentEnvSources {
  /** The server's own environment (`process.env`); only names matching `inheritEnv` pass. */
  readonly serverEnv: Readonly<Record<string, string | undefined>>;
  /** Config `inherit_env`: names, or prefixes ending in `*` (`LC_*`); `*` alone passes everything. */
  readonly inheritEnv: readonly string[];
  /** The spawn request's `environment`: untrusted, checked against {@link FORBIDDEN_REQUEST_ENV}. */
  readonly requestEnv: Readonly<Record<string, string>>;
  /** The backend's `env` from the config file: written by the operator, so not restricted. */
  readonly backendEnv: Readonly<Record<string, string>>;
  /** The request's `context`, set as `AGENT_CONTEXT` when not null. */
  readonly context: string | null | undefined;
  /** Set as `DESCARTES_AGENT_ID`. */
  readonly agentId: string;
}

export type AgentEnvResult =
  | { readonly ok: true; readonly env: Record<string, string> }
  | { readonly ok: false; readonly error: string };

/** Whether variable names are compared without regard to case (Windows: `Path` is `PATH`). */
export function envNamesIgnoreCase(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'win32';
}

/**
 * Whether `name` matches one `inherit_env`-style pattern: the exact name, or a prefix when the
 * pattern ends in `*`.
 * @param ignoreCase compare without regard to case (Windows)
 */
export function matchesEnvPattern(name: string, pattern: string, ignoreCase: boolean): boolean {
  const n = ignoreCase ? name.toUpperCase() : name;
  const p = ignoreCase ? pattern.toUpperCase() : pattern;
  return p.endsWith('*') ? n.startsWith(p.slice(0, -1)) : n === p;
}

/**
 * The {@link FORBIDDEN_REQUEST_ENV} entry that forbids a request to set `name`, or null when the
 * name is allowed. Case is ignored.
 */
export function forbiddenRequestVariable(name: string): string | null {
  return FORBIDDEN_REQUEST_ENV.find((pattern) => matchesEnvPattern(name, pattern, true)) ?? null;
}

/** Why `pattern` (an entry of {@link FORBIDDEN_REQUEST_ENV}) is refused. */
function forbiddenBecause(pattern: string): string {
  return FORBIDDEN_RULES.find((r) => r.patterns.includes(pattern))?.why ?? 'it changes what code runs';
}

function invalidName(name: string): boolean {
  return name === '' || name.includes('=') || name.includes('\0');
}

/**
 * The environment under construction. A later layer replaces a variable of the same name;
 * where names ignore case, one spelled differently is dropped too, so the child never sees
 * both `Path` and `PATH` (Windows would pick one of them unpredictably). A Map, not an object,
 * so that a name like `__proto__` is just a name.
 */
class EnvLayers {
  private readonly vars = new Map<string, string>();
  /** Name as stored, by its comparison key (upper case where case is ignored). */
  private readonly spelled = new Map<string, string>();

  constructor(private readonly ignoreCase: boolean) {}

  set(name: string, value: string): void {
    const key = this.ignoreCase ? name.toUpperCase() : name;
    const previous = this.spelled.get(key);
    if (previous !== undefined) this.vars.delete(previous);
    this.spelled.set(key, name);
    this.vars.set(name, value);
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this.vars);
  }
}

/**
 * Builds an agent's environment. Layers, each overriding the ones before it:
 * 1. the server's variables whose names match `inheritEnv` (nothing else: a secret in the
 *    server's environment, such as an API token, does not reach agents unless listed);
 * 2. the request's `environment`;
 * 3. the backend's `env` from the config file;
 * 4. `AGENT_CONTEXT` (when `context` is not null) and `DESCARTES_AGENT_ID`.
 *
 * The request may not set names matching {@link FORBIDDEN_REQUEST_ENV}; the backend's config
 * env may (the operator wrote that file, e.g. `LD_LIBRARY_PATH` for a backend that needs it).
 * On Windows names are compared without regard to case for matching and overriding.
 * @param platform decides case handling (default: this process's)
 * @returns the environment, or `ok: false` with an error naming the refused or invalid variable
 */
export function buildAgentEnv(
  sources: AgentEnvSources,
  platform: NodeJS.Platform = process.platform,
): AgentEnvResult {
  const ignoreCase = envNamesIgnoreCase(platform);
  for (const [name, value] of Object.entries(sources.requestEnv)) {
    if (invalidName(name)) {
      return { ok: false, error: `environment: invalid variable name ${JSON.stringify(name)}` };
    }
    const forbidden = forbiddenRequestVariable(name);
    if (forbidden !== null) {
      return {
        ok: false,
        error: `environment: ${name} may not be set by a spawn request (${forbidden}: ${forbiddenBecause(forbidden)}); an operator can set it in the backend's env in the server config`,
      };
    }
    if (value.includes('\0')) return { ok: false, error: `environment.${name}: value contains a NUL byte` };
  }
  if (sources.context?.includes('\0')) return { ok: false, error: 'context contains a NUL byte' };

  const env = new EnvLayers(ignoreCase);
  for (const [name, value] of Object.entries(sources.serverEnv)) {
    if (value === undefined) continue;
    if (sources.inheritEnv.some((pattern) => matchesEnvPattern(name, pattern, ignoreCase)))
      env.set(name, value);
  }
  for (const [name, value] of Object.entries(sources.requestEnv)) env.set(name, value);
  for (const [name, value] of Object.entries(sources.backendEnv)) env.set(name, value);
  if (sources.context != null) env.set('AGENT_CONTEXT', sources.context);
  env.set('DESCARTES_AGENT_ID', sources.agentId);
  return { ok: true, env: env.toObject() };
}
