import { describe, expect, it } from 'vitest';
import type { AgentEnvSources } from '../../../server/agentEnv';
import {
  FORBIDDEN_REQUEST_ENV,
  buildAgentEnv,
  forbiddenRequestVariable,
  matchesEnvPattern,
} from '../../../server/agentEnv';
import { defaultInheritEnv } from '../../../server/config';

const SERVER_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/op',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_TIME: 'de_DE.UTF-8',
  DESCARTES_TEST_API_TOKEN: 'secret',
  AWS_SECRET_ACCESS_KEY: 'also-secret',
  LD_PRELOAD: '/server/own.so',
  NODE_OPTIONS: '--inspect',
  ELECTRON_RUN_AS_NODE: '1',
  UNSET: undefined,
};

function sources(over: Partial<AgentEnvSources> = {}): AgentEnvSources {
  return {
    serverEnv: SERVER_ENV,
    inheritEnv: defaultInheritEnv('linux'),
    requestEnv: {},
    backendEnv: {},
    context: null,
    agentId: 'agent-1',
    ...over,
  };
}

function envOf(
  over: Partial<AgentEnvSources> = {},
  platform: NodeJS.Platform = 'linux',
): Record<string, string> {
  const result = buildAgentEnv(sources(over), platform);
  if (!result.ok) throw new Error(result.error);
  return result.env;
}

function errorOf(over: Partial<AgentEnvSources>, platform: NodeJS.Platform = 'linux'): string {
  const result = buildAgentEnv(sources(over), platform);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.env)}`);
  return result.error;
}

describe('matchesEnvPattern', () => {
  it('matches exact names, and prefixes for a trailing *', () => {
    expect(matchesEnvPattern('PATH', 'PATH', false)).toBe(true);
    expect(matchesEnvPattern('PATHEXT', 'PATH', false)).toBe(false);
    expect(matchesEnvPattern('LC_ALL', 'LC_*', false)).toBe(true);
    expect(matchesEnvPattern('LC', 'LC_*', false)).toBe(false);
    expect(matchesEnvPattern('ANYTHING', '*', false)).toBe(true);
  });

  it('ignores case only when asked (Windows)', () => {
    expect(matchesEnvPattern('Path', 'PATH', false)).toBe(false);
    expect(matchesEnvPattern('Path', 'PATH', true)).toBe(true);
    expect(matchesEnvPattern('lc_all', 'LC_*', true)).toBe(true);
  });
});

describe('forbiddenRequestVariable', () => {
  it('names the rule that forbids a loader or runtime variable, in any case', () => {
    expect(forbiddenRequestVariable('LD_PRELOAD')).toBe('LD_*');
    expect(forbiddenRequestVariable('LD_LIBRARY_PATH')).toBe('LD_*');
    expect(forbiddenRequestVariable('ld_preload')).toBe('LD_*');
    expect(forbiddenRequestVariable('DYLD_INSERT_LIBRARIES')).toBe('DYLD_*');
    expect(forbiddenRequestVariable('NODE_OPTIONS')).toBe('NODE_OPTIONS');
    expect(forbiddenRequestVariable('Node_Options')).toBe('NODE_OPTIONS');
    expect(forbiddenRequestVariable('ELECTRON_RUN_AS_NODE')).toBe('ELECTRON_*');
  });

  it('allows everything else, including look-alikes', () => {
    for (const name of [
      'MYPATH',
      'ENVIRONMENT',
      'OLD_PRELOAD',
      'NODE_OPTIONS_X',
      'NODE_ENV',
      'MY_ELECTRON_APP',
      'LDFLAGS',
    ]) {
      expect(forbiddenRequestVariable(name), name).toBeNull();
    }
  });
});

describe('buildAgentEnv', () => {
  it('inherits only allow-listed server variables: no secret, no loader variable of the server', () => {
    expect(envOf()).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/op',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_TIME: 'de_DE.UTF-8',
      DESCARTES_AGENT_ID: 'agent-1',
    });
  });

  it('inherits what the config lists, including * for everything', () => {
    expect(envOf({ inheritEnv: ['HOME', 'DESCARTES_TEST_*'] })).toEqual({
      HOME: '/home/op',
      DESCARTES_TEST_API_TOKEN: 'secret',
      DESCARTES_AGENT_ID: 'agent-1',
    });
    expect(envOf({ inheritEnv: [] })).toEqual({ DESCARTES_AGENT_ID: 'agent-1' });
    expect(Object.keys(envOf({ inheritEnv: ['*'] }))).toEqual(
      expect.arrayContaining(['DESCARTES_TEST_API_TOKEN', 'LD_PRELOAD', 'NODE_OPTIONS']),
    );
  });

  it('layers: inherited < request environment < backend env < AGENT_CONTEXT, DESCARTES_AGENT_ID', () => {
    const env = envOf({
      requestEnv: {
        LANG: 'from-request',
        A: 'request',
        B: 'request',
        AGENT_CONTEXT: 'r',
        DESCARTES_AGENT_ID: 'r',
      },
      backendEnv: { B: 'backend', C: 'backend' },
      context: 'the context',
    });
    expect(env).toMatchObject({
      LANG: 'from-request',
      A: 'request',
      B: 'backend',
      C: 'backend',
      AGENT_CONTEXT: 'the context',
      DESCARTES_AGENT_ID: 'agent-1',
    });
  });

  it('keeps a request AGENT_CONTEXT when the request has no context', () => {
    expect(envOf({ requestEnv: { AGENT_CONTEXT: 'own' } }).AGENT_CONTEXT).toBe('own');
  });

  it.each([
    ['LD_PRELOAD', 'LD_*'],
    ['NODE_OPTIONS', 'NODE_OPTIONS'],
    ['ELECTRON_RUN_AS_NODE', 'ELECTRON_*'],
    ['DYLD_INSERT_LIBRARIES', 'DYLD_*'],
    ['ld_library_path', 'LD_*'],
    ['BASH_ENV', 'BASH_ENV'],
    ['ENV', 'ENV'],
    ['BASH_FUNC_ls%%', 'BASH_FUNC_*'],
    ['PATH', 'PATH'],
    ['PYTHONPATH', 'PYTHONPATH'],
    ['GIT_SSH_COMMAND', 'GIT_SSH_COMMAND'],
    ['GIT_EXTERNAL_DIFF', 'GIT_EXTERNAL_DIFF'],
    ['GIT_TRACE_PACKET', 'GIT_TRACE*'],
    ['PAGER', 'PAGER'],
    ['SSH_ASKPASS', 'SSH_ASKPASS'],
    ['GCONV_PATH', 'GCONV_PATH'],
    ['OPENSSL_CONF', 'OPENSSL_CONF'],
    ['npm_config_script_shell', 'NPM_CONFIG_*'],
    ['HOME', 'HOME'],
    ['LUA_INIT', 'LUA_INIT'],
    ['GIT_COMMON_DIR', 'GIT_COMMON_DIR'],
    ['ZDOTDIR', 'ZDOTDIR'],
  ])('refuses a request that sets %s, naming the variable and the rule', (name, rule) => {
    const error = errorOf({ requestEnv: { SAFE: '1', [name]: '/tmp/x' } });
    expect(error).toContain(`environment: ${name} may not be set by a spawn request (${rule}: `);
    expect(FORBIDDEN_REQUEST_ENV).toContain(rule);
  });

  it('lets a request set ordinary variables that merely look similar', () => {
    expect(envOf({ requestEnv: { ENVIRONMENT: 'prod', GIT_AUTHOR_NAME: 'a', MYPATH: '/x' } })).toMatchObject({
      ENVIRONMENT: 'prod',
      GIT_AUTHOR_NAME: 'a',
      MYPATH: '/x',
    });
  });

  it("lets the operator's backend env set loader variables (the config file is trusted)", () => {
    expect(
      envOf({ backendEnv: { LD_LIBRARY_PATH: '/opt/lib', NODE_OPTIONS: '--max-old-space-size=512' } }),
    ).toMatchObject({ LD_LIBRARY_PATH: '/opt/lib', NODE_OPTIONS: '--max-old-space-size=512' });
  });

  it('refuses invalid names and NUL bytes with the old messages', () => {
    expect(errorOf({ requestEnv: { 'A=B': 'x' } })).toBe('environment: invalid variable name "A=B"');
    expect(errorOf({ requestEnv: { '': 'x' } })).toBe('environment: invalid variable name ""');
    expect(errorOf({ requestEnv: { A: 'x\0y' } })).toBe('environment.A: value contains a NUL byte');
    expect(errorOf({ context: 'a\0b' })).toBe('context contains a NUL byte');
  });

  it('treats __proto__ as an ordinary name', () => {
    const requestEnv: Record<string, string> = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    const env = envOf({ requestEnv });
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(env, '__proto__')?.value).toBe('x');
  });

  describe('on Windows', () => {
    const WIN_ENV = {
      Path: 'C:\\Windows\\system32',
      SystemRoot: 'C:\\Windows',
      ComSpec: 'C:\\Windows\\system32\\cmd.exe',
      PATHEXT: '.COM;.EXE',
      USERPROFILE: 'C:\\Users\\op',
      API_TOKEN: 'secret',
    };

    it('matches the allow-list without regard to case and keeps the server spelling', () => {
      expect(envOf({ serverEnv: WIN_ENV, inheritEnv: defaultInheritEnv('win32') }, 'win32')).toEqual({
        Path: 'C:\\Windows\\system32',
        SystemRoot: 'C:\\Windows',
        ComSpec: 'C:\\Windows\\system32\\cmd.exe',
        PATHEXT: '.COM;.EXE',
        DESCARTES_AGENT_ID: 'agent-1',
      });
    });

    it('a later layer replaces a variable spelled differently: never both Path and PATH', () => {
      const env = envOf(
        {
          serverEnv: WIN_ENV,
          inheritEnv: defaultInheritEnv('win32'),
          backendEnv: { PATH: 'C:\\tools' },
          requestEnv: { descartes_agent_id: 'forged' },
        },
        'win32',
      );
      expect(env.PATH).toBe('C:\\tools');
      expect(env).not.toHaveProperty('Path');
      expect(env.DESCARTES_AGENT_ID).toBe('agent-1');
      expect(env).not.toHaveProperty('descartes_agent_id');
    });

    it('refuses forbidden names in any spelling', () => {
      expect(errorOf({ requestEnv: { Node_Options: '--require x' } }, 'win32')).toContain(
        'environment: Node_Options may not be set',
      );
    });
  });

  it('on POSIX, names differing in case are different variables', () => {
    const env = envOf({ requestEnv: { lang: 'lower' } });
    expect(env.LANG).toBe('C.UTF-8');
    expect(env.lang).toBe('lower');
  });
});
