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
        insecure: false,
        allowClient: null,
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
      '--insecure',
      '--allow-client=rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7',
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
        insecure: true,
        allowClient: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7',
      },
    });
  });

  it('reads the key subcommands with their own options only', () => {
    const key = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7';
    expect(parseArgs(['key'])).toEqual({ kind: 'key', stateDir: null });
    expect(parseArgs(['key', '--state-dir', '/s'])).toEqual({ kind: 'key', stateDir: '/s' });
    expect(parseArgs(['allow', key, '--name', 'laptop'])).toEqual({
      kind: 'allow',
      key,
      name: 'laptop',
      stateDir: null,
    });
    expect(parseArgs(['allow', '--state-dir=/s', key])).toEqual({
      kind: 'allow',
      key,
      name: null,
      stateDir: '/s',
    });
    expect(parseArgs(['revoke', 'laptop'])).toEqual({ kind: 'revoke', target: 'laptop', stateDir: null });
    expect(parseArgs(['clients'])).toEqual({ kind: 'clients', stateDir: null });
    expect(() => parseArgs(['allow'])).toThrow("'allow' needs a client public key");
    expect(() => parseArgs(['allow', 'a', 'b'])).toThrow('quote the key');
    expect(() => parseArgs(['key', '--bind', 'tcp://127.0.0.1:1'])).toThrow(
      "--bind is not an option of 'key'",
    );
    expect(() => parseArgs(['clients', '--insecure'])).toThrow("--insecure is not an option of 'clients'");
    expect(() => parseArgs(['--name', 'x'])).toThrow("--name belongs to 'allow'");
    expect(() => parseArgs(['--insecure', '--insecure'])).toThrow('--insecure given twice');
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
