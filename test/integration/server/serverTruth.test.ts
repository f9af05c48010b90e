import { describe, expect, it } from 'vitest';
import type { AgentInfo, Uuid } from '../../../shared/protocol';
import { AGENT_STATUSES } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends, AGENT_FIXTURE_DIR } from '../../helpers/agents';
import { getStatus, queryOutput, spawnAgent, waitForLine, waitForStatus } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { isProcessRunning, isProcessStopped } from '../../helpers/processes';
import { RawClient } from '../../helpers/rawClient';
import { controlCommand, customAction, healthCheck, listAgents } from '../../helpers/requests';
import { printServerLogsOnFailure, useServerHarness } from '../../helpers/serverHarness';
import { startServerProcess } from '../../helpers/serverProcess';
import type { ServerProcess } from '../../helpers/serverProcess';
import { useTempDir } from '../../helpers/useTempDir';
import { sleep, waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(28400, 28599);
const COOP_BACKEND = { argv: [process.execPath, '{task}'], pause: 'cooperative' };
/** A shell agent that prints a numbered line every 20 ms forever. */
const TICKER = 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.02; done';

interface WireDetails {
  agent_id: string;
  pid: number | null;
  started_at_ms: number;
  ended_at_ms: number | null;
  exit_code: number | null;
  signal: string | null;
  end_reason: string | null;
  pending_request: string | null;
}

async function details(client: RawClient, ids: Uuid[]): Promise<WireDetails[]> {
  const reply = await client.request(
    customAction('00000000-0000-0000-0000-000000000000', 'agent_details', { agent_ids: ids }),
  );
  expect(reply.success, reply.error ?? '').toBe(true);
  return (reply.data as unknown as { agents: WireDetails[] }).agents;
}

async function detailsOf(client: RawClient, id: Uuid): Promise<WireDetails> {
  const [found] = await details(client, [id]);
  if (!found) throw new Error(`no agent_details for ${id}`);
  return found;
}

async function totalLines(client: RawClient, id: Uuid): Promise<number> {
  return Number((await queryOutput(client, id, 'both', { limit: 0 })).total_lines);
}

describe('truthful pause and process facts', () => {
  const h = useServerHarness(ports, {
    config: { backends: { ...nodeBackends(), coop: COOP_BACKEND } },
  });

  it('advertises agent_details in health metadata and list_actions', async () => {
    const health = await h.client.request(healthCheck());
    expect((health.metadata?.capabilities ?? '').split(',')).toContain('agent_details');
    const list = await h.client.request(customAction('00000000-0000-0000-0000-000000000000', 'list_actions'));
    expect(JSON.stringify(list.data)).toContain('"agent_details"');
  });

  it('pause of a shell agent stops the process: no line arrives while it is paused', async () => {
    const agent = await spawnAgent(h.client, { model_backend: 'shell', task: TICKER });
    await waitForLine(h.client, agent.id, 'tick 3');
    const { pid } = await detailsOf(h.client, agent.id);
    expect(pid).toEqual(expect.any(Number));

    const pause = await h.client.request(controlCommand(agent.id, 'pause'));
    expect(pause.success, pause.error ?? '').toBe(true);
    expect(pause.status).toBe('paused');
    expect(pause.data).toEqual({ pause_mode: 'forced' });
    await waitUntil(() => (isProcessStopped(pid ?? 0) ? true : undefined), { what: 'shell agent stopped' });
    const before = await totalLines(h.client, agent.id);
    await sleep(400); // 20 lines' worth of time
    expect(await totalLines(h.client, agent.id)).toBe(before);

    const resume = await h.client.request(controlCommand(agent.id, 'resume'));
    expect(resume.status).toBe('running');
    await waitUntil(async () => ((await totalLines(h.client, agent.id)) > before + 3 ? true : undefined), {
      what: 'output flowing again after resume',
    });
    await h.client.request(controlCommand(agent.id, 'kill'));
  });

  it('a cooperative agent stays running until it acknowledges; so does a resume', async () => {
    const agent = await spawnAgent(h.client, {
      model_backend: 'coop',
      task: `${AGENT_FIXTURE_DIR}coop-agent.js`,
    });
    await waitForLine(h.client, agent.id, 'tick 1');

    const pause = await h.client.request(controlCommand(agent.id, 'pause'));
    expect(pause.success, pause.error ?? '').toBe(true);
    expect(pause.status).toBe('running');
    expect(pause.data).toEqual({ pause_mode: 'cooperative', pending: 'pause' });
    await waitForLine(h.client, agent.id, 'pause-received');
    // The agent has the request but has not acknowledged: still running, pause pending.
    expect(await getStatus(h.client, agent.id)).toBe('running');
    expect((await detailsOf(h.client, agent.id)).pending_request).toBe('pause');
    const listedBefore = (await h.client.request(listAgents())).agents.find((a) => a.id === agent.id);
    expect(listedBefore).toMatchObject({ status: 'running', pause_mode: null });

    await h.client.request(controlCommand(agent.id, 'write_stdin', { data: 'ack\n' }));
    await waitForStatus(h.client, agent.id, 'paused');
    expect((await detailsOf(h.client, agent.id)).pending_request).toBeNull();
    const listed = (await h.client.request(listAgents())).agents.find((a) => a.id === agent.id);
    expect(listed?.pause_mode).toBe('cooperative');
    // The ack line stays in the output, where the agent printed it.
    expect((await queryOutput(h.client, agent.id, 'stdout', { filter: 'paused' })).lines).toContain(
      '{"type":"paused"}',
    );

    const resume = await h.client.request(controlCommand(agent.id, 'resume'));
    expect(resume.status).toBe('paused');
    expect(resume.data).toEqual({ pause_mode: 'cooperative', pending: 'resume' });
    await waitForLine(h.client, agent.id, 'resume-received');
    expect(await getStatus(h.client, agent.id)).toBe('paused');
    await h.client.request(controlCommand(agent.id, 'write_stdin', { data: 'ack\n' }));
    await waitForStatus(h.client, agent.id, 'running');

    const forced = await h.client.request(controlCommand(agent.id, 'pause', { force: true }));
    expect(forced).toMatchObject({ status: 'paused', data: { pause_mode: 'forced' } });
    await h.client.request(controlCommand(agent.id, 'kill'));
  });

  it('agent_details says how each agent ended: completed, failed, operator, signal', async () => {
    const ok = await spawnAgent(h.client, fixtureAgent('exit.js'));
    const bad = await spawnAgent(h.client, fixtureAgent('exit.js', { EXIT_CODE: '3' }));
    const stopped = await spawnAgent(h.client, { model_backend: 'shell', task: 'sleep 30' });
    const shot = await spawnAgent(h.client, { model_backend: 'shell', task: 'sleep 30' });
    await waitForStatus(h.client, ok.id, 'completed');
    await waitForStatus(h.client, bad.id, 'failed');
    await h.client.request(controlCommand(stopped.id, 'stop'));
    const { pid } = await detailsOf(h.client, shot.id);
    process.kill(pid ?? 0, 'SIGKILL'); // not through the server: nobody at a console sent it
    await waitForStatus(h.client, shot.id, 'terminated');

    const all = await details(h.client, [
      ok.id,
      bad.id,
      stopped.id,
      shot.id,
      '5f0c7c3e-0000-4000-8000-000000000000',
    ]);
    expect(all.map((d) => [d.end_reason, d.exit_code, d.signal])).toEqual([
      ['completed', 0, null],
      ['failed', 3, null],
      ['operator', null, 'SIGTERM'],
      ['signal', null, 'SIGKILL'],
    ]);
    for (const d of all) {
      expect(d.ended_at_ms).toBeGreaterThanOrEqual(d.started_at_ms);
      expect(d.pending_request).toBeNull();
    }
    const bogus = await h.client.request(
      customAction('00000000-0000-0000-0000-000000000000', 'agent_details', { agent_ids: 'all' }),
    );
    expect(bogus.success).toBe(false);
    expect(bogus.error).toMatch(/agent_ids must be an array of at most 1000 agent id strings/);
  });
});

describe('agents survive a restart of their server', () => {
  printServerLogsOnFailure();
  const state = useTempDir('truth-state-', 'file');

  async function start(): Promise<{ server: ServerProcess; client: RawClient }> {
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      stateDir: state.path,
      config: { backends: nodeBackends() },
    });
    return { server, client: RawClient.connect(server.bind, server.curve) };
  }

  it('lists ended agents with their output after kill -9, and the running one as failed/lost', async () => {
    const first = await start();
    const lines = JSON.stringify([
      ['out', 'alpha 1'],
      ['err', 'beta 2'],
      ['out', 'alpha 3'],
      ['err', 'beta 4'],
      ['out', 'alpha 5'],
    ]);
    const done = await spawnAgent(first.client, {
      ...fixtureAgent('lines.js', { LINES: lines, LINE_DELAY_MS: '60', EXIT_AFTER: '1' }),
      name: 'finished',
    });
    await waitForStatus(first.client, done.id, 'completed');
    const running = await spawnAgent(first.client, { model_backend: 'shell', task: TICKER, name: 'runner' });
    await waitForLine(first.client, running.id, 'tick 2');
    // Output reaches the disk up to 100 ms after it arrives (docs/PROTOCOL.md §4.9): ten more
    // ticks (200 ms) later, tick 2 is on disk.
    await waitForLine(first.client, running.id, 'tick 12');
    const before = (await first.client.request(listAgents())).agents;
    const runnerPid = (await detailsOf(first.client, running.id)).pid ?? 0;

    await first.client.close();
    await first.server.kill();
    // The agent watchdog ends the agents of a server killed with SIGKILL.
    await waitUntil(() => (isProcessRunning(runnerPid) ? undefined : true), {
      what: 'runner gone with its server',
    });

    const second = await start();
    try {
      const after = (await second.client.request(listAgents())).agents;
      expect(after.map((a) => [a.id, a.name, a.model_backend, a.task])).toEqual(
        before.map((a) => [a.id, a.name, a.model_backend, a.task]),
      );
      expect(after.map((a) => a.status)).toEqual(['completed', 'failed']);
      const [finished, lost] = after as [AgentInfo, AgentInfo];
      expect(finished.started_at).toEqual(before[0]?.started_at);

      expect((await queryOutput(second.client, done.id, 'both')).lines).toEqual([
        'alpha 1',
        'beta 2',
        'alpha 3',
        'beta 4',
        'alpha 5',
      ]);
      expect((await queryOutput(second.client, done.id, 'stderr')).lines).toEqual(['beta 2', 'beta 4']);
      const page = await queryOutput(second.client, done.id, 'stdout', {
        filter: 'alpha [35]',
        limit: 1,
        offset: 1,
      });
      expect(page).toMatchObject({ lines: ['alpha 5'], total_lines: 2, has_more: false });
      expect((await queryOutput(second.client, lost.id, 'both', { filter: '^tick 2$' })).lines).toEqual([
        'tick 2',
      ]);

      const [doneFacts, lostFacts] = await details(second.client, [done.id, lost.id]);
      expect(doneFacts).toMatchObject({ end_reason: 'completed', exit_code: 0 });
      expect(lostFacts).toMatchObject({ end_reason: 'lost', exit_code: null, signal: null, pid: runnerPid });
      expect(lostFacts?.ended_at_ms).toBeGreaterThanOrEqual(lostFacts?.started_at_ms ?? Infinity);

      const stop = await second.client.request(controlCommand(lost.id, 'stop'));
      expect(stop.success).toBe(false);
      expect(stop.error).toMatch(/has already exited \(failed\)/);

      // Rust peers decode the same list: every agent is the 9-field AgentInfo with a status
      // their enum knows (the client's decoder applies the rules of the 1.0.0 vectors).
      for (const agent of after) {
        expect(Object.keys(agent).sort()).toEqual(
          [
            'attach_info',
            'id',
            'model_backend',
            'name',
            'pause_mode',
            'paused_at',
            'started_at',
            'status',
            'task',
          ].sort(),
        );
        expect(AGENT_STATUSES).toContain(agent.status);
      }
      const filtered = await second.client.request(listAgents({ filterStatus: 'failed' }));
      expect(filtered.agents.map((a) => a.id)).toEqual([lost.id]);
    } finally {
      await second.client.close();
      await second.server.stop();
    }
  });
});
