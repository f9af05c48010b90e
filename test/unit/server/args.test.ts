import { describe, expect, it } from 'vitest';
import { ArgsError, DEFAULT_BIND, DEFAULT_PUB, parseArgs } from '../../../server/args';

describe('parseArgs', () => {
  it('defaults to loopback endpoints and no options', () => {
    expect(parseArgs([])).toEqual({
      kind: 'run',
      args: {
        bind: DEFAULT_BIND,
        pub: DEFAULT_PUB,
        configFile: null,
        serverId: null,
        heartbeatMs: null,
        maxAgents: null,
        stateDir: null,
        execLog: null,
        parentPid: null,
      },
    });
    expect(DEFAULT_BIND).toBe('tcp://127.0.0.1:5555');
    expect(DEFAULT_PUB).toBe('tcp://127.0.0.1:5556');
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const parsed = parseArgs([
      '--bind',
      'tcp://127.0.0.1:20001',
      '--pub=tcp://127.0.0.1:20002',
      '--config',
      'c.json',
      '--server-id',
      'srv-x',
      '--heartbeat-ms',
      '250',
      '--max-agents=3',
      '--state-dir',
      '/tmp/s',
      '--exec-log',
      '/tmp/e.log',
      '--parent-pid',
      '4242',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      args: {
        bind: 'tcp://127.0.0.1:20001',
        pub: 'tcp://127.0.0.1:20002',
        configFile: 'c.json',
        serverId: 'srv-x',
        heartbeatMs: 250,
        maxAgents: 3,
        stateDir: '/tmp/s',
        execLog: '/tmp/e.log',
        parentPid: 4242,
      },
    });
  });

  it('returns help for --help', () => {
    expect(parseArgs(['--bind', 'x', '--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--port', '1'], "unknown argument '--port'"],
    [['--bind'], '--bind needs a value'],
    [['--bind', '--pub', 'x'], '--bind needs a value'],
    [['--max-agents', 'ten'], "--max-agents needs a whole number, got 'ten'"],
    [['--max-agents', '0'], '--max-agents must be from 1'],
    [['--heartbeat-ms', '-5'], '--heartbeat-ms needs a whole number'],
    [['--bind', 'a', '--bind', 'b'], '--bind given twice'],
    [['--config='], '--config needs a non-empty value'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(ArgsError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
