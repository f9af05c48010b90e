/**
 * The one place that decides an agent's environment: which of the server's variables it
 * inherits, which names a spawn request may not set, and the precedence of the layers.
 */

/**
 * Names a spawn request's `environment` may not set (an entry ending in `*` is a prefix).
 * Each makes a program load code it was not asked to run (`LD_PRELOAD`, `DYLD_INSERT_LIBRARIES`,
 * `NODE_OPTIONS=--require …`) or turns an Electron binary into a plain Node
 * (`ELECTRON_RUN_AS_NODE`), so a client allowed to spawn only fixed backends could otherwise
 * run anything. Matched without regard to case on every platform: Windows treats names so, and
 * nobody needs `ld_preload` elsewhere.
 */
export const FORBIDDEN_REQUEST_ENV: readonly string[] = ['LD_*', 'DYLD_*', 'NODE_OPTIONS', 'ELECTRON_*'];

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
        error: `environment: ${name} may not be set by a spawn request (${FORBIDDEN_REQUEST_ENV.join(', ')} change what code programs load); an operator can set it in the backend's env in the server config`,
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
