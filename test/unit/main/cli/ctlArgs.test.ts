import { describe, expect, it } from 'vitest';
import {
  CtlUsageError,
  DEFAULT_SERVER,
  parseCtlArgs,
  type CtlInvocation,
} from '../../../../main/cli/ctlArgs';
import { toJson } from '../../../../main/cli/ctlOutput';

const ENV = { dataDir: '/tmp/default-data' };
const AGENT = '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b';
const AGENT2 = '6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b';

function run(argv: string[], env: { server?: string; dataDir: string } = ENV) {
  const inv: CtlInvocation = parseCtlArgs(argv, env);
  if (inv.kind !== 'run') throw new Error('expected a run');
  return inv;
}

function usage(argv: string[]): string {
  try {
    parseCtlArgs(argv, ENV);
  } catch (e) {
    expect(e).toBeInstanceOf(CtlUsageError);
    return (e as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('parseCtlArgs: options', () => {
  it('has defaults: local server, 3 s connect, 30 s reply, 10 s wait, no queue', () => {
    const { command, options } = run(['health']);
    expect(command).toEqual({ kind: 'health' });
    expect(options).toEqual({
      server: DEFAULT_SERVER,
      serverGiven: false,
      serverKey: null,
      queue: false,
      dataDir: '/tmp/default-data',
      waitMs: 10_000,
      connectTimeoutMs: 3000,
      replyTimeoutMs: 30_000,
      expiresInMs: null,
      maxPending: null,
      pretty: false,
    });
  });

  it('reads --server in both forms, anywhere on the line; DESCARTES_SERVER is the default', () => {
    expect(run(['--server', 'tcp://h:1', 'health']).options.server).toBe('tcp://h:1');
    expect(run(['health', '--server=tcp://h:2']).options.server).toBe('tcp://h:2');
    const fromEnv = run(['health'], { server: 'tcp://env:3', dataDir: '/d' }).options;
    expect(fromEnv.server).toBe('tcp://env:3');
    expect(fromEnv.serverGiven).toBe(true);
  });

  it('takes seconds with decimals for timeouts and waits', () => {
    const { options } = run([
      'control',
      AGENT,
      'stop',
      '--queue',
      '--wait',
      '0.5',
      '--connect-timeout',
      '1.25',
      '--expires',
      '600',
    ]);
    expect(options.waitMs).toBe(500);
    expect(options.connectTimeoutMs).toBe(1250);
    expect(options.expiresInMs).toBe(600_000);
    expect(options.queue).toBe(true);
  });

  it('refuses a malformed endpoint, naming the flag and what is expected', () => {
    expect(usage(['health', '--server', 'localhost:5555'])).toBe(
      "--server must look like tcp://host:port (port 1-65535), got 'localhost:5555'",
    );
  });

  it('refuses unknown, repeated, valueless and switch-with-value flags', () => {
    expect(usage(['health', '--bogus'])).toBe("unknown option --bogus for 'health' (try --help)");
    expect(usage(['list', '--force'])).toBe("unknown option --force for 'list' (try --help)");
    expect(usage(['health', '--server', 'tcp://a:1', '--server', 'tcp://b:2'])).toBe('--server given twice');
    expect(usage(['list', '--limit'])).toBe('--limit needs a value');
    expect(usage(['list', '--limit', '--pretty'])).toBe('--limit needs a value');
    expect(usage(['health', '--queue=yes'])).toBe('--queue is a switch and takes no value');
    expect(usage(['list', '--limit', 'ten'])).toBe("--limit needs a whole number, got 'ten'");
    expect(usage(['control', AGENT, 'stop', '--queue', '--wait', '-1'])).toBe(
      "--wait needs a number of seconds, got '-1'",
    );
  });

  it('refuses --queue on queries and queue-only flags without --queue', () => {
    expect(usage(['list', '--queue'])).toBe("'list' is a query and queries are never queued; drop --queue");
    expect(usage(['control', AGENT, 'stop', '--wait', '5'])).toBe(
      "--wait only applies with --queue or to 'ctl queue …'",
    );
    // --data-dir is not queue-only: a direct command finds the console's key and profiles there.
    expect(run(['control', AGENT, 'stop', '--data-dir', '/x']).options.dataDir).toBe('/x');
  });

  it('asks for help with --help anywhere, and for a command when there is none', () => {
    expect(parseCtlArgs(['spawn', '--help'], ENV)).toEqual({ kind: 'help' });
    expect(parseCtlArgs(['help'], ENV)).toEqual({ kind: 'help' });
    expect(usage([])).toBe('missing command (try --help)');
    expect(usage(['frobnicate'])).toMatch(/^unknown command 'frobnicate'/);
  });
});

describe('parseCtlArgs: commands', () => {
  it('list with a status filter and a limit', () => {
    expect(run(['list', '--status', 'running', '--limit', '5']).command).toEqual({
      kind: 'list',
      status: 'running',
      limit: 5,
    });
    expect(usage(['list', '--status', 'asleep'])).toMatch(/^--status must be one of idle, initializing/);
  });

  it('spawn builds the agent config, env and metadata pairs', () => {
    const { command } = run([
      'spawn',
      '--backend',
      'node',
      '--task',
      '/x/agent.js',
      '--name',
      'a1',
      '--env',
      'A=1',
      '--env',
      'B=x=y',
      '--meta',
      'who=ci',
      '--timeout',
      '20',
      '--model',
      'm',
    ]);
    expect(command).toEqual({
      kind: 'spawn',
      config: {
        name: 'a1',
        model_backend: 'node',
        task: '/x/agent.js',
        model: 'm',
        context: null,
        system_prompt: null,
        tool_level: null,
        environment: { A: '1', B: 'x=y' },
      },
      timeoutSecs: 20,
      metadata: { who: 'ci' },
    });
    expect(usage(['spawn', '--task', 't'])).toMatch(/needs --backend/);
    expect(usage(['spawn', '--backend', 'b'])).toMatch(/needs --task/);
    expect(usage(['spawn', '--backend', 'b', '--task', 't', '--env', 'NOVALUE'])).toBe(
      "--env needs KEY=VALUE, got 'NOVALUE'",
    );
    expect(usage(['spawn', '--backend', 'b', '--task', 't', '--env', 'A=1', '--env', 'A=2'])).toBe(
      '--env A given twice',
    );
    expect(usage(['spawn', '--backend', 'b', '--task', 't', '--timeout', '0'])).toBe(
      '--timeout must be from 1 to 86400, got 0',
    );
  });

  it('refuses what the GUI refuses, with the same schemas, naming the flag', () => {
    expect(usage(['spawn', '--backend', 'b', '--task', 't', '--env', 'BAD-NAME=1'])).toBe(
      '--env BAD-NAME: environment names are letters, digits and _',
    );
    expect(usage(['spawn', '--backend', 'b', '--task', 't', '--name', 'n'.repeat(201)])).toMatch(/^--name: /);
    expect(usage(['action', AGENT, ''])).toMatch(/^<action>: action is required/);
    // Blank names: the window trims them through the same schema, so ctl does too.
    expect(usage(['spawn', '--backend', 'b', '--task', 't', '--name', '   '])).toBe(
      '--name: name is required',
    );
    // A blank task is refused by the window's own schema, before anything is sent.
    expect(usage(['spawn', '--backend', 'b', '--task', '  ', '--name', 'n'])).toBe(
      '--task: task is required: say what the agent should do',
    );
    expect(usage(['spawn', '--backend', '  ', '--task', 't', '--name', 'n'])).toMatch(
      /^--backend: backend is required/,
    );
    expect(run(['spawn', '--backend', ' b ', '--task', 't', '--name', ' n ']).command).toMatchObject({
      config: { name: 'n', model_backend: 'b' },
    });
    expect(usage(['list', '--limit', '0'])).toMatch(/^--limit: /);
    expect(usage(['query', AGENT, '--filter', '/err/g'])).toBe(
      "--filter: invalid regex: flag 'g' is not allowed (allowed: i, m, s, u)",
    );
    expect(usage(['query', AGENT, '--filter', 'é'.repeat(513)])).toBe(
      '--filter: invalid regex: the filter is 1026 bytes long, at most 1024 are allowed',
    );
    expect(run(['query', AGENT, '--filter', '/err/i']).command).toMatchObject({ filter: '/err/i' });
  });

  it('control: shorthands for the payload, normalized agent ids', () => {
    const upper = AGENT.toUpperCase();
    expect(run(['control', upper, 'pause', '--force']).command).toEqual({
      kind: 'control',
      agentId: AGENT,
      commandType: 'pause',
      payload: { force: true },
    });
    expect(run(['control', AGENT, 'write_stdin', '--line', 'hi']).command).toMatchObject({
      payload: { data: 'hi\n' },
    });
    expect(run(['control', AGENT, 'write_stdin', '--data', 'raw']).command).toMatchObject({
      payload: { data: 'raw' },
    });
    expect(run(['control', AGENT, 'signal', '--signal', 'interrupt']).command).toMatchObject({
      payload: { signal: 'interrupt' },
    });
    expect(run(['control', AGENT, 'get_status']).command).toMatchObject({ payload: null });
    expect(run(['control', AGENT, 'signal', '--payload', '{"signal":"stop"}']).command).toMatchObject({
      payload: { signal: 'stop' },
    });
    expect(usage(['control', AGENT, 'stop', '--force'])).toBe('--force applies to pause/resume, not to stop');
    expect(usage(['control', AGENT, 'signal', '--signal', 'hup'])).toMatch(
      /^--signal must be one of interrupt/,
    );
    expect(usage(['control', AGENT, 'pause', '--force', '--payload', '{}'])).toBe(
      '--payload and --force cannot be combined; give one of them',
    );
    expect(usage(['control', AGENT, 'signal', '--payload', '{bad'])).toMatch(/^--payload is not valid JSON/);
    expect(usage(['control', 'agent-7', 'stop'])).toBe("agent id must be a UUID, got 'agent-7'");
    expect(usage(['control', AGENT, 'explode'])).toMatch(/^command must be one of pause, resume/);
    expect(usage(['control', AGENT])).toBe(
      "'control' needs <command> (usage: ctl control <agent> <command>)",
    );
    expect(usage(['control', AGENT, 'stop', 'extra'])).toBe(
      "'control' takes <agent> <command>, got extra 'extra'",
    );
  });

  it('action with params and a timeout', () => {
    expect(run(['action', AGENT, 'add', '--params', '{"a":1,"b":2}', '--timeout', '5']).command).toEqual({
      kind: 'action',
      agentId: AGENT,
      action: 'add',
      params: { a: 1, b: 2 },
      timeoutSecs: 5,
    });
  });

  it('batch with several agents, fail-fast and a payload', () => {
    expect(run(['batch', 'pause', AGENT, AGENT2, '--fail-fast', '--force']).command).toEqual({
      kind: 'batch',
      commandType: 'pause',
      agentIds: [AGENT, AGENT2],
      payload: { force: true },
      failFast: true,
    });
    expect(usage(['batch', 'stop'])).toBe("'batch' needs at least one agent id after the command type");
    expect(usage(['batch'])).toBe("'batch' needs a command type and at least one agent id");
  });

  it('query with stream, filter, limit and offset', () => {
    expect(
      run(['query', AGENT, '--stream', 'stderr', '--filter', '^err', '--limit', '0', '--offset', '3'])
        .command,
    ).toEqual({
      kind: 'query',
      agentId: AGENT,
      stream: 'stderr',
      filter: '^err',
      limit: 0,
      offset: 3,
    });
    expect(run(['query', AGENT]).command).toMatchObject({ stream: 'both', filter: null, limit: null });
    expect(usage(['query', AGENT, '--limit', '10001'])).toBe('--limit must be from 0 to 10000, got 10001');
  });

  it('queue subcommands', () => {
    const list = run(['queue', 'list', '--state', 'queued,timed_out', '--data-dir', '/q']);
    expect(list.command).toEqual({ kind: 'queue_list', states: ['queued', 'timed_out'], limit: 1000 });
    expect(list.options.dataDir).toBe('/q');
    expect(list.options.queue).toBe(true);
    expect(run(['queue', 'list', '--state', 'all']).command).toEqual({
      kind: 'queue_list',
      states: ['queued', 'sending', 'succeeded', 'failed', 'timed_out', 'expired', 'cancelled'],
      limit: 1000,
    });
    expect(run(['queue', 'history', '--limit', '3']).command).toEqual({ kind: 'queue_history', limit: 3 });
    expect(run(['queue', 'cancel', AGENT.toUpperCase()]).command).toEqual({
      kind: 'queue_cancel',
      id: AGENT,
    });
    expect(run(['queue', 'retry', AGENT]).command).toEqual({ kind: 'queue_retry', id: AGENT });
    expect(run(['queue', 'discard', '7']).command).toEqual({ kind: 'queue_discard', key: 7 });
    expect(run(['queue', 'discard', AGENT.toUpperCase()]).command).toEqual({
      kind: 'queue_discard',
      key: AGENT,
    });
    expect(usage(['queue', 'discard', '0'])).toBe('entry must be from 1 to 9007199254740991, got 0');
    expect(usage(['queue', 'discard'])).toMatch(/<entry \| request_id>/);
    expect(run(['queue', 'dismiss', '3']).command).toEqual({ kind: 'queue_dismiss', notice: 3 });
    expect(usage(['queue', 'dismiss', 'x'])).toBe("notice needs a whole number, got 'x'");
    expect(run(['queue', 'flush', '--wait', '2']).options.waitMs).toBe(2000);
    expect(usage(['queue'])).toMatch(/needs a subcommand/);
    expect(usage(['queue', 'drop'])).toMatch(/^unknown queue subcommand 'drop'/);
    expect(usage(['queue', 'cancel', 'x'])).toBe("request id must be a UUID, got 'x'");
    expect(usage(['queue', 'list', '--state', 'done'])).toMatch(/^--state must be one of queued, sending/);
    expect(usage(['queue', 'list', '--wait', '1'])).toBe("--wait does not apply to 'queue list'");
  });
});

describe('toJson', () => {
  it('prints bigints (as numbers when safe, else text) and byte arrays', () => {
    expect(toJson({ a: 5n, b: 2n ** 64n, c: new Uint8Array([1, 2]) }, false)).toBe(
      '{"a":5,"b":"18446744073709551616","c":[1,2]}\n',
    );
    expect(toJson({ a: 1 }, true)).toBe('{\n  "a": 1\n}\n');
  });
});

describe('parseCtlArgs: keys', () => {
  const KEY = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7';

  it('--server-key pins a Z85 key (trimmed) for direct and queued commands', () => {
    expect(run(['health', '--server-key', KEY]).options.serverKey).toBe(KEY);
    expect(run(['control', AGENT, 'stop', '--queue', `--server-key= ${KEY} `]).options.serverKey).toBe(KEY);
  });

  it('refuses a malformed key, naming the flag and the problem', () => {
    expect(usage(['health', '--server-key', 'abc'])).toMatch(
      /^--server-key must be 40 characters of Z85 text .*got 3$/,
    );
    expect(usage(['health', '--server-key', `${KEY.slice(0, 39)}~`])).toBe(
      "--server-key has '~' at position 40, which is not a Z85 character",
    );
  });

  it("--server-key does not apply to the local queue's commands (they use their profile)", () => {
    expect(usage(['queue', 'list', '--server-key', KEY])).toBe("--server-key does not apply to 'queue list'");
    expect(usage(['queue', 'flush', '--server-key', KEY])).toBe(
      "--server-key does not apply to 'queue flush'",
    );
  });

  it('key takes only --data-dir and --pretty', () => {
    expect(run(['key']).command).toEqual({ kind: 'key' });
    expect(run(['key', '--data-dir', '/k', '--pretty']).options.dataDir).toBe('/k');
    expect(usage(['key', '--server', 'tcp://h:1'])).toBe("--server does not apply to 'key'");
    expect(usage(['key', '--server-key', KEY])).toBe("--server-key does not apply to 'key'");
    expect(usage(['key', 'extra'])).toBe("'key' takes no arguments, got extra 'extra'");
  });
});
