import { describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../../shared/protocol';
import type { BackendSpec } from '../../../server/config';
import { enabledBackends, expandTemplate, resolveBackend } from '../../../server/backends';

/** Backend settings as the config file gives them; the catch-all is off as by default. */
const set = (backends: Record<string, BackendSpec | null> = {}, cliCatchAll = false) => ({
  backends,
  cliCatchAll,
});

const cfg = (over: Partial<AgentConfig> = {}): AgentConfig => ({
  name: 'agent-1',
  model_backend: 'shell',
  task: 'echo hi; exit 3',
  environment: {},
  ...over,
});

describe('expandTemplate', () => {
  it('fills placeholders literally and drops an element that is exactly a None placeholder', () => {
    expect(
      expandTemplate(
        ['p', '{task}', '{model}', '--name={name}', '--sp={system_prompt}', '{tool_level}'],
        cfg({ model: null }),
      ),
    ).toEqual(['p', 'echo hi; exit 3', '--name=agent-1', '--sp=']);
    expect(
      expandTemplate(['p', '{model}', '{tool_level}'], cfg({ model: 'm1', tool_level: 'full' })),
    ).toEqual(['p', 'm1', 'full']);
    // A value containing a placeholder-like text is not expanded again.
    expect(expandTemplate(['{task}', '{name}'], cfg({ task: '{name}' }))).toEqual(['{name}', 'agent-1']);
  });
});

describe('resolveBackend', () => {
  it('runs the shell backend with sh -c on POSIX and cmd.exe on Windows', () => {
    expect(resolveBackend(cfg(), set(), 'linux')).toEqual({
      ok: true,
      command: { backend: 'shell', argv: ['sh', '-c', 'echo hi; exit 3'], env: {}, pause: 'signal' },
    });
    const win = resolveBackend(cfg(), set(), 'win32');
    expect(win.ok && win.command.argv).toEqual(['cmd.exe', '/d', '/s', '/c', 'echo hi; exit 3']);
  });

  it('builds the upstream claude, opencode and <x>-cli command lines', () => {
    const claude = resolveBackend(cfg({ model_backend: 'claude', task: 'do it' }), set(), 'linux');
    expect(claude.ok && claude.command.argv).toEqual([
      'claude',
      '-p',
      'do it',
      '--output-format',
      'stream-json',
      '--verbose',
    ]);
    const withModel = resolveBackend(
      cfg({ model_backend: 'claude', task: 't', model: 'opus' }),
      set(),
      'linux',
    );
    expect(withModel.ok && withModel.command.argv).toEqual([
      'claude',
      '-p',
      't',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'opus',
    ]);
    const oc = resolveBackend(cfg({ model_backend: 'opencode', task: 't' }), set(), 'linux');
    expect(oc.ok && oc.command.argv).toEqual(['opencode', 'run', '--format', 'json', 't']);
    const cli = resolveBackend(cfg({ model_backend: 'gemini-cli', task: 't' }), set({}, true), 'linux');
    expect(cli.ok && cli.command.argv).toEqual(['gemini', 't']);
  });

  it('refuses <program>-cli unless cli_catch_all is on, and says how to turn it on', () => {
    const r = resolveBackend(cfg({ model_backend: 'gemini-cli', task: 't' }), set(), 'linux');
    expect(r).toEqual({
      ok: false,
      error:
        "unknown backend 'gemini-cli' (enabled: claude, opencode, shell; set cli_catch_all in the server config to run <program>-cli backends)",
    });
  });

  it('refuses a built-in the config disables with null, naming what is enabled', () => {
    const r = resolveBackend(cfg(), set({ shell: null }), 'linux');
    expect(r).toEqual({
      ok: false,
      error: "backend 'shell' is disabled in this server's config (enabled: claude, opencode)",
    });
    expect(enabledBackends(set({ shell: null, claude: null, opencode: null }))).toEqual([]);
    expect(enabledBackends(set({ mine: { argv: ['x'], env: {} } }, true))).toEqual([
      'claude',
      'mine',
      'opencode',
      'shell',
      '<program>-cli',
    ]);
  });

  it('prefers a configured backend of the same name and passes its env', () => {
    const r = resolveBackend(
      cfg({ model_backend: 'claude' }),
      set({ claude: { argv: ['my-claude', '{task}'], env: { X: '1' } } }),
    );
    expect(r).toEqual({
      ok: true,
      command: {
        backend: 'claude',
        argv: ['my-claude', 'echo hi; exit 3'],
        env: { X: '1' },
        pause: 'signal',
      },
    });
  });

  it('names an unknown backend and lists the known ones', () => {
    const r = resolveBackend(cfg({ model_backend: 'gpt' }), set({ mine: { argv: ['x'], env: {} } }));
    expect(r).toEqual({
      ok: false,
      error: "unknown backend 'gpt' (enabled: claude, mine, opencode, shell)",
    });
  });

  it('refuses a value that would fill a whole argument and starts with "-": the program would read an option', () => {
    const py = set({ py: { argv: ['python3', '-u', '{task}'], env: {} }, shell: null });
    expect(resolveBackend(cfg({ model_backend: 'py', task: '-cimport os; os.system("id")' }), py)).toEqual({
      ok: false,
      error:
        'the task starts with "-", which backend \'py\' would pass to its program as an option, not as the task; ' +
        'reword it to start with another character',
    });
    const claude = resolveBackend(cfg({ model_backend: 'claude', model: '--settings' }), set());
    expect(claude.ok || claude.error).toMatch(/^the model starts with "-"/);
    expect(
      resolveBackend(cfg({ model_backend: 'claude', task: '--dangerously-skip-permissions' }), set()).ok,
    ).toBe(false);
    // Two placeholders in one argument: checked after filling, so an empty model cannot hide it.
    const joined = set({ j: { argv: ['prog', '{model}{task}'], env: {} } });
    expect(resolveBackend(cfg({ model_backend: 'j', model: null, task: '-x' }), joined)).toEqual({
      ok: false,
      error:
        'the model or task starts with "-", which backend \'j\' would pass to its program as an option, ' +
        'not as the model or task; reword it to start with another character',
    });
    // Inside a longer argument a value cannot become an option; elsewhere a "-" is just text.
    const inside = set({ x: { argv: ['prog', '--task={task}'], env: {} } });
    expect(resolveBackend(cfg({ model_backend: 'x', task: '-v' }), inside).ok).toBe(true);
    expect(resolveBackend(cfg({ task: 'echo -n hi' }), set()).ok).toBe(true);
  });

  it('rejects a command line whose program is empty after expansion', () => {
    const r = resolveBackend(cfg({ model: null }), set({ shell: { argv: ['{model}'], env: {} } }));
    expect(r.ok).toBe(false);
  });
});
