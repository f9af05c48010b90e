import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CONFIG,
  defaultInheritEnv,
  defaultQueryConcurrency,
  loadConfigFile,
  validateConfig,
} from '../../../server/config';
import { useTempDir } from '../../helpers/useTempDir';

describe('validateConfig', () => {
  it('defaults every key of an empty object', () => {
    expect(validateConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.maxAgents).toBe(100);
    expect(DEFAULT_CONFIG.lineStore).toEqual({
      maxLines: 100_000,
      maxBytes: 33_554_432,
      maxLineBytes: 65_536,
    });
  });

  it('defaults the hardening keys to the safe side', () => {
    expect(DEFAULT_CONFIG.cliCatchAll).toBe(false);
    expect(DEFAULT_CONFIG.exposeEnvValues).toBe(false);
    expect(DEFAULT_CONFIG.maxExitedAgents).toBe(200);
    expect(DEFAULT_CONFIG.totalOutputBytes).toBe(512 * 1024 * 1024);
    expect(DEFAULT_CONFIG.queryBudgetMs).toBe(2000);
    expect(defaultInheritEnv('linux')).toEqual([
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
    ]);
    expect(defaultInheritEnv('win32')).toEqual(expect.arrayContaining(['SystemRoot', 'ComSpec', 'PATHEXT']));
    // One regex worker per core but one (a core stays with the event loop), 1 to 4.
    expect([1, 2, 3, 8, 64].map((cores) => defaultQueryConcurrency(cores))).toEqual([1, 1, 2, 4, 4]);
  });

  it('reads the hardening keys and names a bad one', () => {
    const config = validateConfig({
      backends: { shell: null },
      cli_catch_all: true,
      inherit_env: ['PATH', 'MY_*'],
      expose_env_values: true,
      max_exited_agents: 3,
      line_store: { total_bytes: 4096 },
      query_budget_ms: 100,
      max_concurrent_queries: 1,
      max_waiting_queries: 0,
    });
    expect(config).toMatchObject({
      backends: { shell: null },
      cliCatchAll: true,
      inheritEnv: ['PATH', 'MY_*'],
      exposeEnvValues: true,
      maxExitedAgents: 3,
      totalOutputBytes: 4096,
      queryBudgetMs: 100,
      maxConcurrentQueries: 1,
      maxWaitingQueries: 0,
    });
    expect(validateConfig({ query_timeout_ms: 50 }).queryBudgetMs).toBe(50);
    expect(() => validateConfig({ query_timeout_ms: 50, query_budget_ms: 60 })).toThrow(
      /set only query_budget_ms/,
    );
    expect(() => validateConfig({ inherit_env: ['PATH', 'A=B'] })).toThrow(/inherit_env\[1\]/);
    expect(() => validateConfig({ expose_env_values: 'yes' })).toThrow(
      /expose_env_values must be true or false/,
    );
    expect(() => validateConfig({ backends: { shell: 3 } })).toThrow(/or null to disable it/);
  });

  it('reads backends, limits and timeouts', () => {
    const config = validateConfig({
      backends: { echoer: { argv: ['echo', '{task}', '--model={model}'], env: { A: '1' } } },
      max_agents: 5,
      heartbeat_ms: 200,
      line_store: { max_lines: 10 },
      action_timeout_secs: 3,
    });
    expect(config.backends.echoer).toEqual({ argv: ['echo', '{task}', '--model={model}'], env: { A: '1' } });
    expect(config.maxAgents).toBe(5);
    expect(config.heartbeatMs).toBe(200);
    expect(config.lineStore).toEqual({ ...DEFAULT_CONFIG.lineStore, maxLines: 10 });
    expect(config.actionTimeoutSecs).toBe(3);
  });

  it.each([
    [{ max_agnets: 3 }, "cfg.json: top level: unknown key 'max_agnets'"],
    [{ max_agents: 0 }, 'cfg.json: max_agents must be an integer from 1'],
    [{ max_agents: '5' }, 'cfg.json: max_agents must be an integer'],
    [{ heartbeat_ms: 1.5 }, 'cfg.json: heartbeat_ms must be an integer'],
    [{ line_store: { max_line: 1 } }, "cfg.json: line_store: unknown key 'max_line'"],
    [{ backends: { x: { argv: [] } } }, 'cfg.json: backends.x.argv must be a non-empty array of strings'],
    [{ backends: { x: { argv: ['a', 3] } } }, 'cfg.json: backends.x.argv[1] must be a string'],
    [
      { backends: { x: { argv: ['a', '{prompt}'] } } },
      "cfg.json: backends.x.argv[1]: unknown placeholder '{prompt}'",
    ],
    [{ backends: { x: { argv: ['a'], env: { K: 1 } } } }, 'cfg.json: backends.x.env.K must be a string'],
    [
      { backends: { x: { argv: ['a'], env: { 'A=B': 'v' } } } },
      'cfg.json: backends.x.env: invalid variable name',
    ],
    [{ backends: { x: { args: ['a'] } } }, "cfg.json: backends.x: unknown key 'args'"],
    [[], 'cfg.json: the top level must be a JSON object'],
  ])('rejects %j naming the key', (input, message) => {
    expect(() => validateConfig(input, 'cfg.json')).toThrow(ConfigError);
    expect(() => validateConfig(input, 'cfg.json')).toThrow(message);
  });
});

describe('loadConfigFile', () => {
  const dir = useTempDir('descartes-config-');

  it('loads a file, and names the file when it is missing or not JSON', () => {
    const good = join(dir.path, 'good.json');
    writeFileSync(good, JSON.stringify({ max_agents: 7 }));
    expect(loadConfigFile(good).maxAgents).toBe(7);
    expect(() => loadConfigFile(join(dir.path, 'none.json'))).toThrow(
      /cannot read config file .*none\.json: ENOENT/,
    );
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, '{"max_agents": ');
    expect(() => loadConfigFile(bad)).toThrow(/bad\.json is not valid JSON/);
    const wrong = join(dir.path, 'wrong.json');
    writeFileSync(wrong, '{"max_agents": -1}');
    expect(() => loadConfigFile(wrong)).toThrow(/wrong\.json: max_agents must be/);
  });
});
