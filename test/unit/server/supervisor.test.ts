import { afterEach, describe, expect, it } from 'vitest';
import type {
  AgentConfig,
  AgentStatus,
  JsonValue,
  LogStreamType,
  StatusUpdateType,
} from '../../../shared/protocol';
import type { EventSink } from '../../../server/publisher';
import { DEFAULT_CONFIG } from '../../../server/config';
import type { ServerConfig } from '../../../server/config';
import { Stats } from '../../../server/stats';
import { Supervisor } from '../../../server/supervisor';
import type { AgentProcess } from '../../../server/agentProcess';

interface Seen {
  agentId: string;
  updateType: StatusUpdateType;
  status: AgentStatus | null;
  data: Record<string, JsonValue> | undefined;
}

/** Keeps what the supervisor publishes, in order. */
class RecordingSink implements EventSink {
  readonly statuses: Seen[] = [];
  readonly logs: { agentId: string; stream: LogStreamType; text: string }[] = [];
  status(
    agentId: string,
    updateType: StatusUpdateType,
    status: AgentStatus | null,
    _m: string | null,
    data?: Record<string, JsonValue>,
  ): void {
    this.statuses.push({ agentId, updateType, status, data });
  }
  log(agentId: string, stream: LogStreamType, bytes: Uint8Array): void {
    this.logs.push({ agentId, stream, text: Buffer.from(bytes).toString() });
  }
}

const shell = (task: string, over: Partial<AgentConfig> = {}): AgentConfig => ({
  name: 't',
  model_backend: 'shell',
  task,
  environment: {},
  ...over,
});

const supervisors: Supervisor[] = [];
function make(
  maxAgents = 10,
  backends: ServerConfig['backends'] = {},
): { sup: Supervisor; sink: RecordingSink; stats: Stats } {
  const sink = new RecordingSink();
  const stats = new Stats();
  const sup = new Supervisor({
    config: { ...DEFAULT_CONFIG, shutdownGraceMs: 500, cliCatchAll: true, backends },
    events: sink,
    stats,
    maxAgents,
  });
  supervisors.push(sup);
  return { sup, sink, stats };
}

async function spawnOk(sup: Supervisor, config: AgentConfig): Promise<AgentProcess> {
  const r = await sup.spawn(config);
  if (!r.ok) throw new Error(r.error);
  return r.agent;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.shutdown(500)));
});

describe('Supervisor with real child processes', () => {
  it('runs a shell task, stores its lines and reports completed with exit code 0', async () => {
    const { sup, sink } = make();
    const agent = await spawnOk(sup, shell('echo out1; echo err1 >&2; printf tail'));
    expect(await agent.waitExit(3000)).toBe(true);
    expect(agent.status).toBe('completed');
    const all = agent.lines.read('both', 0, 100);
    expect(all.lines.sort()).toEqual(['err1', 'out1', 'tail']);
    expect(sink.statuses[0]).toMatchObject({ updateType: 'status_changed', status: 'running' });
    expect(sink.statuses.at(-1)).toMatchObject({
      updateType: 'completed',
      status: 'completed',
      data: { exit_code: 0, signal: null },
    });
    expect(sink.logs.map((l) => l.text).join('')).toContain('out1');
    expect(sup.activeCount).toBe(0);
  });

  it('reports a non-zero exit as failed with update_type error', async () => {
    const { sup, sink } = make();
    const agent = await spawnOk(sup, shell('exit 3'));
    await agent.waitExit(3000);
    expect(agent.status).toBe('failed');
    expect(sink.statuses.at(-1)).toMatchObject({
      updateType: 'error',
      status: 'failed',
      data: { exit_code: 3 },
    });
  });

  it('passes environment, backend env, AGENT_CONTEXT and DESCARTES_AGENT_ID', async () => {
    const { sup } = make();
    const agent = await spawnOk(
      sup,
      shell('echo "$FOO|$AGENT_CONTEXT|$DESCARTES_AGENT_ID"', {
        environment: { FOO: 'bar' },
        context: 'ctx text',
      }),
    );
    await agent.waitExit(3000);
    expect(agent.readLine('stdout')).toBe(`bar|ctx text|${agent.id}`);
    expect(agent.readLine('stdout')).toBeNull();
  });

  it('fails clearly for an unknown backend, a missing executable and the agent limit', async () => {
    const { sup, stats } = make(1);
    expect(await sup.spawn(shell('x', { model_backend: 'nope' }))).toMatchObject({
      ok: false,
      error: expect.stringContaining("unknown backend 'nope'") as string,
    });
    expect(await sup.spawn(shell('x', { model_backend: 'definitely-missing-xyz-cli' }))).toEqual({
      ok: false,
      error: "backend 'definitely-missing-xyz-cli': executable 'definitely-missing-xyz' not found",
    });
    await spawnOk(sup, shell('sleep 5'));
    expect(await sup.spawn(shell('true'))).toEqual({
      ok: false,
      error: 'agent limit reached: 1 agents are running (max_agents)',
    });
    expect(stats.get('spawn_failures')).toBe(3);
  });

  it('pauses with SIGSTOP and resumes with SIGCONT (forced), and stop gives terminated', async () => {
    const { sup, sink } = make();
    const agent = await spawnOk(sup, shell('while true; do echo tick; sleep 0.05; done'));
    await until(() => agent.lines.lineCount > 0);
    await agent.pause(true);
    expect(agent.info()).toMatchObject({ status: 'paused', pause_mode: 'forced' });
    expect(agent.info().paused_at).not.toBeNull();
    await new Promise((r) => setTimeout(r, 150));
    const frozen = agent.lines.lineCount;
    await new Promise((r) => setTimeout(r, 250));
    expect(agent.lines.lineCount).toBe(frozen);
    await agent.resume(false);
    expect(agent.status).toBe('running');
    await until(() => agent.lines.lineCount > frozen);
    await agent.pause(true);
    agent.sendSignal('SIGTERM'); // a stopped process must still terminate
    expect(await agent.waitExit(3000)).toBe(true);
    expect(agent.status).toBe('terminated');
    expect(sink.statuses.filter((s) => s.agentId === agent.id).map((s) => s.status)).toEqual(
      expect.arrayContaining(['running', 'paused', 'terminated']),
    );
    expect(() => {
      agent.sendSignal('SIGKILL');
    }).toThrow(`agent ${agent.id} has already exited (terminated)`);
  });

  it('a cooperative backend is asked on stdin and counts as paused only once it acknowledges', async () => {
    const { sup, sink } = make(10, { coop: { argv: ['sh', '-c', '{task}'], env: {}, pause: 'cooperative' } });
    const agent = await spawnOk(
      sup,
      shell(
        'read line; echo "got:$line"; read ack; echo \'{"type":"paused"}\'; read line2; echo "got:$line2"; read ack2; echo \'{"type":"resumed"}\'; read end',
        { model_backend: 'coop' },
      ),
    );
    expect(await agent.pause(false)).toEqual({ mode: 'cooperative', pending: 'pause' });
    expect(agent.info()).toMatchObject({ status: 'running', pause_mode: null });
    expect(agent.details().pendingRequest).toBe('pause');
    await agent.writeStdin('ack\n');
    await until(() => agent.status === 'paused');
    expect(agent.info().pause_mode).toBe('cooperative');
    expect(agent.details().pendingRequest).toBeNull();

    expect(await agent.resume(false)).toEqual({ mode: 'cooperative', pending: 'resume' });
    expect(agent.status).toBe('paused');
    await agent.writeStdin('ack\n');
    await until(() => agent.status === 'running');
    expect(agent.readLine('stdout')).toBe('got:{"type":"pause","action":"pause"}');
    expect(agent.readLine('stdout')).toBe('{"type":"paused"}');
    expect(agent.readLine('stdout')).toBe('got:{"type":"resume","action":"resume"}');
    const updates = sink.statuses
      .filter((s) => s.agentId === agent.id)
      .map((s) => [s.status, s.data?.pending ?? null]);
    expect(updates).toEqual(
      expect.arrayContaining([
        ['running', 'pause'],
        ['paused', null],
        ['paused', 'resume'],
        ['running', null],
      ]),
    );
    await agent.writeStdin('end\n');
    await agent.waitExit(3000);
  });

  it('a pause without force on a signal backend is SIGSTOP (forced), reported paused at once', async () => {
    const { sup } = make();
    const agent = await spawnOk(sup, shell('sleep 30'));
    expect(await agent.pause(false)).toEqual({ mode: 'forced', pending: null });
    expect(agent.info()).toMatchObject({ status: 'paused', pause_mode: 'forced' });
    agent.sendSignal('SIGKILL');
    await agent.waitExit(3000);
    expect(agent.details()).toMatchObject({ endReason: 'operator', signal: 'SIGKILL', exitCode: null });
  });

  it('forwards a custom action and takes the matching action_result line as the answer', async () => {
    const { sup } = make();
    const script =
      'read req; id=$(echo "$req" | sed \'s/.*"id":"\\([^"]*\\)".*/\\1/\'); ' +
      'echo "{\\"type\\":\\"action_result\\",\\"id\\":\\"other\\",\\"ok\\":false}"; ' +
      'echo "{\\"type\\":\\"action_result\\",\\"id\\":\\"$id\\",\\"ok\\":true,\\"result\\":{\\"n\\":1}}"; sleep 5';
    const agent = await spawnOk(sup, shell(script));
    const result = await agent.forwardAction('req-1', 'count', { x: 1 }, 3000);
    expect(result).toEqual({ ok: true, result: { n: 1 }, error: null });
    // Result lines are still output.
    const stdout = agent.lines.read('stdout', 0, 100).lines;
    expect(stdout.filter((l) => l.includes('action_result'))).toHaveLength(2);
  });

  it('times out a forwarded action nobody answers', async () => {
    const { sup } = make();
    const agent = await spawnOk(sup, shell('sleep 5'));
    const started = Date.now();
    expect(await agent.forwardAction('req-2', 'slow', null, 200)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('stops every agent at shutdown, escalating to SIGKILL for one that ignores SIGTERM', async () => {
    const { sup } = make();
    const polite = await spawnOk(sup, shell('sleep 30'));
    const stubborn = await spawnOk(sup, shell('trap "" TERM; echo ready; while true; do sleep 0.05; done'));
    await until(() => stubborn.lines.lineCount > 0);
    const started = Date.now();
    await sup.shutdown(300);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(polite.active).toBe(false);
    expect(stubborn.active).toBe(false);
    expect(stubborn.status).toBe('terminated');
    // Nobody asked for these agents to end: their facts say the shutdown did it, not an operator.
    expect(polite.details().endReason).toBe('shutdown');
    expect(stubborn.details().endReason).toBe('shutdown');
    expect((await sup.spawn(shell('true'))).ok).toBe(false);
  });
});
