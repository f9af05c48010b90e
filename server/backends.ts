import type { AgentConfig } from '../shared/protocol';
import type { BackendSpec, PauseStyle, TemplatePlaceholder } from './config';

/** The command line and extra environment a spawn request resolves to. */
export interface ResolvedCommand {
  readonly backend: string;
  /** argv[0] is the program, looked up in PATH by the OS. */
  readonly argv: readonly string[];
  /** Backend env from the config file (empty for built-ins). */
  readonly env: Readonly<Record<string, string>>;
  /** How its agents pause: `signal` (SIGSTOP) for every built-in, config `pause` for the others. */
  readonly pause: PauseStyle;
}

export type ResolveResult =
  { readonly ok: true; readonly command: ResolvedCommand } | { readonly ok: false; readonly error: string };

/** Names of the built-in backends (besides the `<x>-cli` family). */
export const BUILTIN_BACKENDS = ['shell', 'claude', 'opencode'] as const;

function placeholderValue(config: AgentConfig, name: TemplatePlaceholder): string | null {
  switch (name) {
    case 'task':
      return config.task;
    case 'name':
      return config.name;
    case 'model':
      return config.model ?? null;
    case 'system_prompt':
      return config.system_prompt ?? null;
    case 'tool_level':
      return config.tool_level ?? null;
    default: {
      const never: never = name;
      return never;
    }
  }
}

const PLACEHOLDER = /\{(task|model|name|system_prompt|tool_level)\}/g;

/**
 * Fills an argv template. An element that is exactly one placeholder whose value is None is
 * dropped; inside longer text a None value becomes the empty string. Values are inserted
 * literally (no shell is involved, so no quoting is needed).
 */
export function expandTemplate(template: readonly string[], config: AgentConfig): string[] {
  const out: string[] = [];
  for (const element of template) {
    const whole = /^\{(task|model|name|system_prompt|tool_level)\}$/.exec(element);
    if (whole) {
      const value = placeholderValue(config, whole[1] as TemplatePlaceholder);
      if (value !== null) out.push(value);
      continue;
    }
    out.push(
      element.replace(
        PLACEHOLDER,
        (_m, name: string) => placeholderValue(config, name as TemplatePlaceholder) ?? '',
      ),
    );
  }
  return out;
}

/**
 * The placeholders of the first argument that starts with `-` only because of what filled it
 * (the template's text there does not), e.g. `task`; null when there is none. A program reads
 * such an argument as an option: a task `-cimport os; …` given to `python3 -u {task}` runs code,
 * `--dangerously-skip-permissions` given to `claude -p {task}` lifts its limits. Checked after
 * filling, so `{model}{task}` with an empty model is caught too.
 */
function optionLikeArgument(template: readonly string[], config: AgentConfig): string | null {
  for (const element of template) {
    if (element.startsWith('-')) continue;
    const [filled] = expandTemplate([element], config);
    if (filled?.startsWith('-') !== true) continue;
    const names = [...element.matchAll(PLACEHOLDER)].map((m) => (m[1] ?? '').replace('_', ' '));
    return [...new Set(names)].join(' or ');
  }
  return null;
}

function builtinTemplate(
  backend: string,
  config: AgentConfig,
  platform: NodeJS.Platform,
  cliCatchAll: boolean,
): string[] | null {
  switch (backend) {
    case 'shell':
      return platform === 'win32' ? ['cmd.exe', '/d', '/s', '/c', '{task}'] : ['sh', '-c', '{task}'];
    case 'claude': {
      const argv = ['claude', '-p', '{task}', '--output-format', 'stream-json', '--verbose'];
      if (config.model != null) argv.push('--model', '{model}');
      return argv;
    }
    case 'opencode':
      return ['opencode', 'run', '--format', 'json', '{task}'];
    default: {
      if (!cliCatchAll) return null;
      const cli = /^(.+)-cli$/.exec(backend);
      return cli ? [cli[1] ?? backend, '{task}'] : null;
    }
  }
}

/** What decides which backends exist: the config file's `backends` and `cli_catch_all`. */
export interface BackendSettings {
  /** Config-file backends; `null` disables the built-in of that name. */
  readonly backends: Readonly<Record<string, BackendSpec | null>>;
  /** Whether an unknown `<program>-cli` runs `<program> {task}`. */
  readonly cliCatchAll: boolean;
}

/**
 * Names of the backends a spawn may use, sorted: the configured ones plus the built-ins not
 * disabled, and `<program>-cli` when the catch-all is on. Shown in health metadata `backends`
 * and in the error for an unknown backend.
 */
export function enabledBackends(settings: BackendSettings): string[] {
  const names = new Set<string>(BUILTIN_BACKENDS);
  for (const [name, spec] of Object.entries(settings.backends)) {
    if (spec === null) names.delete(name);
    else names.add(name);
  }
  const sorted = [...names].sort();
  if (settings.cliCatchAll) sorted.push('<program>-cli');
  return sorted;
}

/**
 * Resolves `config.model_backend` to a command line: a config-file backend of that name first,
 * then the built-ins (`shell`, `claude`, `opencode`) unless the config disables them with
 * `null`, then `<x>-cli` when `cli_catch_all` is on.
 * @param platform decides the `shell` backend (`sh -c` or `cmd.exe /d /s /c`)
 * @returns `ok: false` with an error naming the backend when it is unknown, disabled, or the task empty
 */
export function resolveBackend(
  config: AgentConfig,
  settings: BackendSettings,
  platform: NodeJS.Platform = process.platform,
): ResolveResult {
  const name = config.model_backend;
  const configured = settings.backends;
  const spec = Object.hasOwn(configured, name) ? configured[name] : undefined;
  const known = enabledBackends(settings);
  if (spec === null) {
    return {
      ok: false,
      error: `backend '${name}' is disabled in this server's config (enabled: ${known.join(', ') || 'none'})`,
    };
  }
  const template = spec ? spec.argv : builtinTemplate(name, config, platform, settings.cliCatchAll);
  if (!template) {
    const hint =
      settings.cliCatchAll || !/-cli$/.test(name)
        ? ''
        : '; set cli_catch_all in the server config to run <program>-cli backends';
    return {
      ok: false,
      error: `unknown backend '${name}' (enabled: ${known.join(', ') || 'none'}${hint})`,
    };
  }
  const optionLike = optionLikeArgument(template, config);
  if (optionLike !== null) {
    return {
      ok: false,
      error:
        `the ${optionLike} starts with "-", which backend '${name}' would pass to its program as an option, ` +
        `not as the ${optionLike}; reword it to start with another character`,
    };
  }
  const argv = expandTemplate(template, config);
  const program = argv[0];
  if (program === undefined || program === '') {
    return { ok: false, error: `backend '${name}': the command line is empty after filling the template` };
  }
  return {
    ok: true,
    command: { backend: name, argv, env: spec ? spec.env : {}, pause: spec?.pause ?? 'signal' },
  };
}
