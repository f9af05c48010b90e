/**
 * `npm run ctl` as a child process against a real agent server: every command, JSON on
 * stdout, one error line on stderr, the documented exit codes; offline fail-fast; and --queue
 * commands stored while the server is down and delivered, once, by a later process.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../../shared/domain/result';
import type { QueuedCommand } from '../../../shared/domain/command';
import type {
  BatchControlResponse,
  CommandResponse,
  HealthCheckResponse,
  ListAgentsResponse,
  OutputQueryResponse,
  ReplyMessage,
  SpawnResponse,
} from '../../../shared/protocol';
import { openConsoleCore } from '../../../main/core/services/consoleCore';
import { ProfileStore } from '../../../main/core/services/profileStore';
import { AGENT_FIXTURE_DIR } from '../../helpers/agents';
import { PortAllocator } from '../../helpers/ports';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import { runServerCli } from '../../helpers/serverCli';
import { startServerProcess, type ServerProcess } from '../../helpers/serverProcess';
import { TEST_CLIENT_KEYS } from '../../helpers/testKeys';
import { curveKeyFingerprint } from '../../../shared/domain/curveKey';
import { generateCurveKeyPair } from '../../../shared/node/curveKeyPair';
import { serverKeyOf } from '../transport/curveKit';
import { clientAllowName } from '../../../main/core/security/clientKey';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';
import {
  execCounts,
  nodeServerSecurity,
  readExecLog,
  runCtlProcess,
  securityOf,
  startRustLikeRouter,
  seedClientKey,
  startNodeServer,
  type CtlRun,
} from './clientKit';

const ports = new PortAllocator(30000, 30299);
const ACTION_AGENT = `${AGENT_FIXTURE_DIR}action-agent.js`;
type Printed = QueuedCommand & { server: string | null };

let temp: TempDir;
let server: ServerProcess;
let endpoint: string;
let dataDir: string;

printServerLogsOnFailure();

beforeAll(async () => {
  temp = await createTempDir('descartes-ctl-');
  // A console's data dir: its client key is the one harness servers allow, and it has a
  // profile pinning the shared server's key, so ctl reaches it encrypted without --server-key.
  dataDir = seedClientKey(join(temp.path, 'data'));
  server = await startNodeServer(await ports.next(), await ports.next(), join(temp.path, 'srv'));
  endpoint = server.bind;
  new ProfileStore(dataDir).add({ name: 'shared', endpoint, security: securityOf(server) });
});
afterAll(async () => {
  await server.stop();
  await temp.remove();
});

function ctl(...args: string[]): Promise<CtlRun> {
  return runCtlProcess(args, dataDir);
}

/** The public key of the node server kept in `dir`, known before it starts. */
function serverKeyFor(dir: string): string {
  const security = nodeServerSecurity(dir);
  if (security.mode !== 'curve') throw new Error('node servers are encrypted');
  return security.serverKey;
}

/** The arguments of `ctl spawn` for the fixture action agent named `name`, then `more`. */
function spawnAction(name: string, ...more: string[]): string[] {
  return ['spawn', '--backend', 'node', '--task', ACTION_AGENT, '--name', name, ...more];
}

async function spawnActionAgent(name: string): Promise<string> {
  const run = await ctl(...spawnAction(name, '--server', endpoint));
  expect(run.code, run.stderr).toBe(0);
  const reply = run.json<SpawnResponse>();
  expect(reply.success).toBe(true);
  return reply.agent_info?.id ?? '';
}

describe('ctl against a running server (direct)', () => {
  let agent = '';
  let agent2 = '';

  // The agents every later test acts on: each test can run alone with -t.
  beforeAll(async () => {
    agent = await spawnActionAgent('ctl-a');
    agent2 = await spawnActionAgent('ctl-b');
  });

  it('health prints the health reply and exits 0', async () => {
    const run = await ctl('health', '--server', endpoint);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const reply = run.json<HealthCheckResponse>();
    expect(reply.type).toBe('health_check_response');
    expect(reply.healthy).toBe(true);
    expect(reply.protocol_version).toBe('1.0.0');
    expect(reply.metadata?.capabilities).toContain('dedupe');
  });

  it('spawn starts agents; list shows them, filtered by status and limited', async () => {
    const run = await ctl('list', '--server', endpoint, '--status', 'running');
    expect(run.code, run.stderr).toBe(0);
    const ids = run.json<ListAgentsResponse>().agents.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining([agent, agent2]));
    const limited = (await ctl('list', '--server', endpoint, '--limit', '1')).json<ListAgentsResponse>();
    expect(limited.agents).toHaveLength(1);
    const paused = (await ctl('list', '--server', endpoint, '--status', 'paused')).json<ListAgentsResponse>();
    expect(paused.agents).toEqual([]);
  });

  it('spawn with an unknown backend prints the failed reply, names the error on stderr and exits 1', async () => {
    const run = await ctl('spawn', '--server', endpoint, '--backend', 'no-such-backend', '--task', 'x');
    expect(run.code).toBe(1);
    const reply = run.json<SpawnResponse>();
    expect(reply.success).toBe(false);
    expect(run.stderr).toMatch(/^ctl: spawn_request failed: .*no-such-backend/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('control write_stdin reaches the agent; query reads it back without consuming it', async () => {
    const write = await ctl(
      'control',
      agent,
      'write_stdin',
      '--line',
      'hello from ctl',
      '--server',
      endpoint,
    );
    expect(write.code, write.stderr).toBe(0);
    expect(write.json<CommandResponse>().success).toBe(true);
    const lines = await waitUntil(
      async () => {
        const q = await ctl(
          'query',
          agent,
          '--server',
          endpoint,
          '--filter',
          'hello from ctl',
          '--stream',
          'stdout',
        );
        const reply = q.json<OutputQueryResponse>();
        return reply.lines.length > 0 ? reply : undefined;
      },
      { timeoutMs: 15_000, what: 'the echoed stdin line' },
    );
    expect(lines.lines).toEqual(['stdin: hello from ctl']);
    const page = (
      await ctl('query', agent, '--server', endpoint, '--limit', '1', '--offset', '0')
    ).json<OutputQueryResponse>();
    expect(page.lines).toHaveLength(1);
    expect(page.has_more).toBe(true);
  });

  it('control get_status and signal; pause/resume --force stop and continue the process', async () => {
    const status = (await ctl('control', agent, 'get_status', '--server', endpoint)).json<CommandResponse>();
    expect(status.data).toEqual({ status: 'running' });
    const pause = await ctl('control', agent, 'pause', '--force', '--server', endpoint);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.json<CommandResponse>().status).toBe('paused');
    const resume = await ctl('control', agent, 'resume', '--force', '--server', endpoint);
    expect(resume.json<CommandResponse>().status).toBe('running');
    const signal = await ctl('control', agent, 'signal', '--signal', 'continue', '--server', endpoint);
    expect(signal.code, signal.stderr).toBe(0);
  });

  it('action runs built-in and agent actions with params', async () => {
    const echo = await ctl('action', agent, 'echo', '--params', '{"k":[1,"two"]}', '--server', endpoint);
    expect(echo.code, echo.stderr).toBe(0);
    expect(echo.json<CommandResponse>().data).toEqual({ k: [1, 'two'] });
    const add = await ctl(
      'action',
      agent,
      'add',
      '--params',
      '{"a":2,"b":3}',
      '--server',
      endpoint,
      '--timeout',
      '5',
    );
    expect(add.json<CommandResponse>().data).toBe(5);
  });

  it('batch acts on several agents with per-agent results; a failure exits 1', async () => {
    const ok = await ctl('batch', 'get_status', agent, agent2, '--server', endpoint);
    expect(ok.code, ok.stderr).toBe(0);
    const reply = ok.json<BatchControlResponse>();
    expect(reply.results.map((r) => r.agent_id)).toEqual([agent, agent2]);
    expect(reply.successful).toBe(2);
    const missing = '00000000-0000-4000-8000-000000000001';
    const bad = await ctl('batch', 'get_status', missing, agent, '--fail-fast', '--server', endpoint);
    expect(bad.code).toBe(1);
    expect(bad.json<BatchControlResponse>().results).toHaveLength(1);
    expect(bad.stderr).toMatch(/1 of 1 agent\(s\) failed: Agent not found/);
  });

  it("control on an unknown agent exits 1 with the server's error", async () => {
    const missing = '00000000-0000-4000-8000-000000000002';
    const run = await ctl('control', missing, 'stop', '--server', endpoint);
    expect(run.code).toBe(1);
    expect(run.json<CommandResponse>().error).toBe(`Agent not found: ${missing}`);
    expect(run.stderr).toBe(`ctl: control_command failed: Agent not found: ${missing}\n`);
  });

  it('a reply slower than --reply-timeout is reported as outcome unknown (exit 4); the server still ran it once', async () => {
    const run = await ctl(
      'action',
      agent,
      'slow',
      '--params',
      '{"ms":2500}',
      '--server',
      endpoint,
      '--reply-timeout',
      '0.5',
    );
    expect(run.code).toBe(4);
    const out = run.json<{ status: string; request_id: string; reason: string }>();
    expect(out.status).toBe('unknown');
    expect(out.reason).toMatch(/no reply .* within 500 ms/);
    expect(run.stderr).toMatch(/^ctl: outcome unknown:/);
    expect(execCounts(join(temp.path, 'srv', 'exec.log')).get(out.request_id)).toBe(1);
  });

  it('control stop ends the agent', async () => {
    const run = await ctl('control', agent2, 'stop', '--server', endpoint);
    expect(run.code, run.stderr).toBe(0);
    await waitUntil(
      async () => {
        const s = (await ctl('control', agent2, 'get_status', '--server', endpoint)).json<CommandResponse>();
        const status = (s.data as { status?: string } | null)?.status;
        return status === 'terminated' || status === 'failed' || status === 'completed' ? status : undefined;
      },
      { timeoutMs: 15_000, what: 'the stopped agent to end' },
    );
  });
});

describe('ctl errors', () => {
  it('fails fast with exit 3 when the server is offline, and sends nothing', async () => {
    const port = await ports.next();
    const started = Date.now();
    const run = await ctl(
      'control',
      '00000000-0000-4000-8000-000000000003',
      'stop',
      '--server',
      `tcp://127.0.0.1:${port}`,
      '--connect-timeout',
      '1',
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `ctl: talking to tcp://127.0.0.1:${port} without encryption (no --server-key, and no encrypted profile for it); ` +
        'pin the server key with --server-key KEY (on the server: npm run server -- key)\n' +
        `ctl: server tcp://127.0.0.1:${port} is offline: no answer to a health check within 1 s; nothing was sent (use --queue to deliver it later)\n`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('usage errors exit 2 with one line; --help prints the usage with the exit codes', async () => {
    const bad = await ctl('control', 'not-a-uuid', 'stop');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("ctl: agent id must be a UUID, got 'not-a-uuid'\n");
    const help = await ctl('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toContain('4  not confirmed');
  });

  it('refuses --queue while another process (a running console) owns the queue', async () => {
    const owned = join(temp.path, 'owned');
    const core = openConsoleCore({ dataDir: owned });
    try {
      const run = await runCtlProcess(
        ['control', '00000000-0000-4000-8000-000000000004', 'stop', '--queue', '--server', endpoint],
        owned,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `ctl: the command queue in ${owned} is owned by another running process (pid ${process.pid}), e.g. an open console; ` +
          'queue through that console, close it, use another --data-dir, or send without --queue\n',
      );
      expect(core.queue.list(undefined, undefined, 10)).toEqual([]);
    } finally {
      await core.dispose();
    }
  });
});

describe('ctl and a hostile server', () => {
  it("prints the server's error as one line, with its escape sequences shown, not acted on", async () => {
    const port = await ports.next();
    const hostile = 'nope\u001b]0;pwned\u0007\u001b[2J\r\nctl: spawn succeeded';
    const router = await startRustLikeRouter(port, [], (req) =>
      req.type === 'spawn_request'
        ? {
            type: 'spawn_response',
            request_id: req.request_id,
            success: false,
            agent_info: null,
            error: hostile,
          }
        : null,
    );
    try {
      const run = await ctl(
        'spawn',
        '--backend',
        'shell',
        '--task',
        'x',
        '--server',
        `tcp://127.0.0.1:${port}`,
      );
      expect(run.code).toBe(1);
      const lines = run.stderr.split('\n').filter((l) => l !== '');
      expect(lines.at(-1)).toBe(
        'ctl: spawn_request failed: nope\\u001b]0;pwned\\u0007\\u001b[2J | ctl: spawn succeeded',
      );
      for (const raw of ['\u001b', '\u0007', '\r']) expect(run.stderr).not.toContain(raw);
      // The JSON on stdout still carries the server's exact text.
      expect(run.json<SpawnResponse>().error).toBe(hostile);
    } finally {
      router.close();
    }
  });
});

describe('ctl --queue', () => {
  it('delivers at once when the server is online and prints the CommandResult', async () => {
    const agent = await spawnActionAgent('ctl-q');
    const run = await ctl('action', agent, 'echo', '--params', '{"q":1}', '--queue', '--server', endpoint);
    expect(run.code, run.stderr).toBe(0);
    const result = run.json<CommandResult<CommandResponse> & { command: Printed }>();
    expect(result.status).toBe('done');
    if (result.status !== 'done') return;
    expect(result.reply.data).toEqual({ q: 1 });
    expect(result.command.state).toBe('succeeded');
    expect(result.command.server).toBe(endpoint);
    expect(execCounts(join(temp.path, 'srv', 'exec.log')).get(result.command.id)).toBe(1);
    const history = (await ctl('queue', 'history', '--limit', '1')).json<{ commands: Printed[] }>();
    expect(history.commands.map((c) => c.id)).toEqual([result.command.id]);
  });

  it('stores commands while the server is down (exit 4); a later ctl --queue delivers them in order, once', async () => {
    const port = await ports.next();
    const pubPort = await ports.next();
    const dir = join(temp.path, 'late');
    const target = `tcp://127.0.0.1:${port}`;
    // The first one pins the key of the server to come (made now in its state dir); the
    // profile it creates carries it for every later command to that server.
    const first = await ctl(
      ...spawnAction('late-1', '--queue', '--server', target),
      '--server-key',
      serverKeyFor(dir),
      '--wait',
      '0.5',
      '--connect-timeout',
      '0.2',
    );
    expect(first.code).toBe(4);
    const queued = first.json<CommandResult<ReplyMessage> & { command: Printed }>();
    expect(queued.status).toBe('queued');
    expect(queued.command.state).toBe('queued');
    expect(first.stderr).toContain(`command ${queued.command.id} stays queued in ${dataDir}`);

    const list = (await ctl('queue', 'list', '--server', target)).json<{ commands: Printed[] }>();
    expect(list.commands.map((c) => [c.id, c.state, c.server])).toEqual([
      [queued.command.id, 'queued', target],
    ]);

    const srv = await startNodeServer(port, pubPort, dir);
    try {
      const second = await ctl(...spawnAction('late-2', '--queue', '--server', target, '--wait', '20'));
      expect(second.code, second.stderr).toBe(0);
      const done = second.json<CommandResult<SpawnResponse> & { command: Printed }>();
      expect(done.status).toBe('done');
      const log = readExecLog(join(dir, 'exec.log')).map((e) => e.request_id);
      expect(log).toEqual([queued.command.id, done.command.id]);

      const history = (await ctl('queue', 'history', '--server', target)).json<{ commands: Printed[] }>();
      expect(history.commands.map((c) => [c.id, c.state])).toEqual([
        [done.command.id, 'succeeded'],
        [queued.command.id, 'succeeded'],
      ]);
      expect(
        (await ctl('queue', 'list', '--server', target)).json<{ commands: Printed[] }>().commands,
      ).toEqual([]);
      const names = (await ctl('list', '--server', target))
        .json<ListAgentsResponse>()
        .agents.map((a) => a.name);
      expect(names.sort()).toEqual(['late-1', 'late-2']);
    } finally {
      await srv.stop();
    }
  });

  it('queue flush delivers what is queued; queue cancel withdraws a command, which is never sent', async () => {
    const port = await ports.next();
    const pubPort = await ports.next();
    const dir = join(temp.path, 'flush');
    const target = `tcp://127.0.0.1:${port}`;
    const queueSpawn = async (name: string): Promise<string> => {
      const run = await ctl(
        '--server-key',
        serverKeyFor(dir),
        ...spawnAction(name),
        '--queue',
        '--server',
        target,
        '--wait',
        '0.2',
        '--connect-timeout',
        '0.1',
      );
      expect(run.code, run.stderr).toBe(4);
      return run.json<{ command: Printed }>().command.id;
    };
    const keep = await queueSpawn('flush-keep');
    const drop = await queueSpawn('flush-drop');
    const cancel = await ctl('queue', 'cancel', drop);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.json<{ command: Printed }>().command.state).toBe('cancelled');
    const again = await ctl('queue', 'cancel', drop);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^ctl: Cannot cancel command .* it is cancelled\. It has already ended\.\n$/,
    );

    const srv = await startNodeServer(port, pubPort, dir);
    try {
      const flush = await ctl('queue', 'flush', '--server', target, '--wait', '20');
      expect(flush.code, flush.stderr).toBe(0);
      const out = flush.json<{ pending: number; commands: Printed[] }>();
      expect(out.pending).toBe(0);
      expect(out.commands.map((c) => [c.id, c.state])).toEqual([[keep, 'succeeded']]);
      expect(readExecLog(join(dir, 'exec.log')).map((e) => e.request_id)).toEqual([keep]);
    } finally {
      await srv.stop();
    }
  });
});

describe('ctl keys and --server-key', () => {
  it('key prints the console key of the data dir (made 0600 on first use), its fingerprint and the allow line', async () => {
    const fresh = join(temp.path, 'fresh-key');
    const run = await runCtlProcess(['key'], fresh);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const key = run.json<{
      public_key: string;
      fingerprint: string;
      allow_command: string;
      key_file: string;
    }>();
    expect(key.public_key).toHaveLength(40);
    expect(key.fingerprint).toBe(curveKeyFingerprint(key.public_key));
    expect(key.allow_command).toBe(
      `npm run server -- allow '${key.public_key}' --name ${clientAllowName(key.public_key)}`,
    );
    expect(key.key_file).toBe(join(fresh, 'client.key'));
    if (process.platform !== 'win32') expect(statSync(key.key_file).mode & 0o777).toBe(0o600);
    expect(readFileSync(key.key_file, 'utf8')).toContain(key.public_key);
    // The same key on every run; and the seeded data dir prints the harness's allowed key.
    expect((await runCtlProcess(['key'], fresh)).json<{ public_key: string }>().public_key).toBe(
      key.public_key,
    );
    expect((await ctl('key')).json<{ public_key: string }>().public_key).toBe(TEST_CLIENT_KEYS.publicKey);
  });

  it("--server-key with the console's key once the server allows it; refused before, saying what to run", async () => {
    const fresh = join(temp.path, 'allow-me');
    const { public_key: mine } = (await runCtlProcess(['key'], fresh)).json<{ public_key: string }>();
    // A server that allows only the harness key: ours is a stranger to it.
    const srv = await startServerProcess({ port: await ports.next(), pubPort: await ports.next() });
    try {
      const key = serverKeyOf(srv);
      const refused = await runCtlProcess(['health', '--server', srv.bind, '--server-key', key], fresh);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toBe(
        `ctl: server ${srv.bind} refused the connection: the server at ${srv.bind} refused this console's key; ` +
          `run on the server: npm run server -- allow '${mine}' --name ${clientAllowName(mine)}; nothing was sent (use --queue to deliver it later)\n`,
      );
      const allowed = await runServerCli([
        'allow',
        mine,
        '--name',
        clientAllowName(mine),
        '--state-dir',
        srv.stateDir,
      ]);
      expect(allowed.code, allowed.stderr).toBe(0);
      // The server reads its allow list within a second or two.
      const health = await waitUntil(
        async () => {
          const r = await runCtlProcess(['health', '--server', srv.bind, '--server-key', key], fresh);
          return r.code === 0 ? r : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'ctl health to be admitted' },
      );
      expect(health.stderr).toBe('');
      expect(health.json<HealthCheckResponse>().metadata?.security).toBe('curve');
    } finally {
      await srv.stop();
    }
  });

  it('refuses a wrong --server-key and a plain connection to an encrypted server, each with the fix', async () => {
    const wrong = generateCurveKeyPair().publicKey;
    const mismatch = await ctl('health', '--server', endpoint, '--server-key', wrong);
    expect(mismatch.code).toBe(3);
    expect(mismatch.stderr).toMatch(
      /refused the connection: the server at .* did not prove it holds the pinned server key \(fingerprint [0-9a-f:]+\); check the key with `npm run server -- key`/,
    );
    // Another data dir has no profile for the server: plain, said once, and refused.
    const other = seedClientKey(join(temp.path, 'no-profile'));
    const plain = await runCtlProcess(['health', '--server', endpoint], other);
    expect(plain.code).toBe(3);
    const lines = plain.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`ctl: talking to ${endpoint} without encryption`);
    expect(lines[1]).toContain(
      'requires encryption; pin its public key (run `npm run server -- key` on the server)',
    );
    // With the key it works, and says nothing about security.
    const pinned = await runCtlProcess(
      ['health', '--server', endpoint, '--server-key', serverKeyOf(server)],
      other,
    );
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stderr).toBe('');
  });

  it("without --server, uses the console's embedded server (its endpoint and pinned key); a profile matches localhost too", async () => {
    const local = seedClientKey(join(temp.path, 'embedded-profile'));
    // The local server moved off the default port: ctl follows the profile, encrypted.
    new ProfileStore(local).add({ name: 'Local agent server', endpoint, security: securityOf(server) }, true);
    const run = await runCtlProcess(['health'], local);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.json<HealthCheckResponse>().metadata?.server_id).toBe(server.ready?.server_id);
    const alias = await ctl('health', '--server', endpoint.replace('127.0.0.1', 'localhost'));
    expect(alias.code, alias.stderr).toBe(0);
    expect(alias.stderr).toBe('');
  });

  it("--queue keeps the console's profile: a --server-key that disagrees with it is refused", async () => {
    const run = await ctl(
      'control',
      '00000000-0000-4000-8000-000000000005',
      'stop',
      '--queue',
      '--server',
      endpoint,
      '--server-key',
      generateCurveKeyPair().publicKey,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^ctl: the console's profile for .* pins another server key \([0-9a-f:]+\) than --server-key \([0-9a-f:]+\); edit the profile in the console/,
    );
  });

  it('plain ctl against an --insecure server works and says once that it is not encrypted', async () => {
    const srv = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      insecure: true,
    });
    try {
      const run = await ctl('health', '--server', srv.bind);
      expect(run.code, run.stderr).toBe(0);
      expect(run.json<HealthCheckResponse>().metadata?.security).toBe('none');
      expect(run.stderr.match(/without encryption/g)).toHaveLength(1);
    } finally {
      await srv.stop();
    }
  });
});
