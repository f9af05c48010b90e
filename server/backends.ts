import type { AgentConfig } from '../shared/protocol';
import type { BackendSpec, TemplatePlaceholder } from './config';

/** The command line and extra environment a spawn request resolves to. */
export interface ResolvedCommand {
  readonly backend: string;
  /** argv[0] is the program, looked up in PATH by the OS. */
  readonly argv: readonly string[];
  /** Backend env from the config file (empty for built-ins). */
  readonly env: Readonly<Record<string, string>>;
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

function builtinTemplate(backend: string, config: AgentConfig, platform: NodeJS.Platform): string[] | null {
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
      const cli = /^(.+)-cli$/.exec(backend);
      return cli ? [cli[1] ?? backend, '{task}'] : null;
    }
  }
}

/**
 * Resolves `config.model_backend` to a command line: a config-file backend of that name first,
 * then the built-ins (`shell`, `claude`, `opencode`, `<x>-cli`).
 * @param platform decides the `shell` backend (`sh -c` or `cmd.exe /d /s /c`)
 * @returns `ok: false` with an error naming the backend when it is unknown or the task empty
 */
export function resolveBackend(
  config: AgentConfig,
  configured: Readonly<Record<string, BackendSpec>>,
  platform: NodeJS.Platform = process.platform,
): ResolveResult {
  const name = config.model_backend;
  const spec = Object.hasOwn(configured, name) ? configured[name] : undefined;
  const template = spec ? spec.argv : builtinTemplate(name, config, platform);
  if (!template) {
    const known = [...new Set([...Object.keys(configured), ...BUILTIN_BACKENDS])].sort();
    return {
      ok: false,
      error: `unknown backend '${name}' (known: ${known.join(', ')}, or any '<program>-cli')`,
    };
  }
  const argv = expandTemplate(template, config);
  const program = argv[0];
  if (program === undefined || program === '') {
    return { ok: false, error: `backend '${name}': the command line is empty after filling the template` };
  }
  return { ok: true, command: { backend: name, argv, env: spec ? spec.env : {} } };
}
