import { beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_COMMAND_TYPES, type AgentInfo, type JsonValue } from '../../../shared/protocol';
import { AGENT_FIXTURE_DIR, fixtureAgent, nodeBackends } from '../../helpers/agents';
import {
  actionAgentPid,
  getStatus,
  queryOutput,
  spawnAgent,
  waitForLine,
  waitForOutput,
  waitForStatus,
} from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { isProcessRunning, isProcessStopped } from '../../helpers/processes';
import {
  controlCommand,
  customAction,
  healthCheck,
  listAgents,
  outputQuery,
  spawnRequest,
} from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';
import { waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(22000, 22199);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GHOST_EXE = '/nonexistent/descartes-ghost-agent';

function asObject(value: JsonValue | undefined): Record<string, JsonValue> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new Error(`expected a JSON object, got ${JSON.stringify(value)}`);
  }
  return value;
}

describe('agent server: spawn, list, health and the 12 control commands', () => {
  const h = useServerHarness(ports, {
    env: { T_SERVER: 'from-server-env', T_SERVER_SECRET: 'not-inherited' },
    config: {
      cli_catch_all: true,
      inherit_env: ['PATH', 'HOME', 'T_SERVER'],
      backends: {
        ...nodeBackends(),
        report: {
          argv: [
            process.execPath,
            `${AGENT_FIXTURE_DIR}report.js`,
            '{name}',
            '{model}',
            '{tool_level}',
            '{system_prompt}',
            '{task}',
          ],
          env: { T_BACKEND: 'from-backend' },
        },
        ghost: { argv: [GHOST_EXE, '{task}'] },
      },
    },
  });

  it('health_check_response: healthy, protocol 1.0.0, metadata with server_id, pub_endpoint, capabilities, counters', async () => {
    const reply = await h.client.request(healthCheck());
    expect(reply.healthy).toBe(true);
    expect(reply.protocol_version).toBe('1.0.0');
    expect(typeof reply.uptime_secs).toBe('number');
    expect(typeof reply.active_agents).toBe('number');
    const meta = reply.metadata ?? {};
    expect(meta.server_id).toBe(h.server.ready?.server_id);
    expect(meta.pub_endpoint).toBe(h.server.pub);
    expect((meta.capabilities ?? '').split(',')).toEqual(
      expect.arrayContaining(['custom_action', 'batch', 'output_query', 'dedupe', 'status_stream']),
    );
    for (const key of ['version', 'hostname', 'platform']) expect(meta[key], key).toMatch(/\S/);
    for (const key of [
      'stat.decode_errors',
      'stat.unknown_tags',
      'stat.oversized',
      'stat.unknown_agent',
      'stat.bad_regex',
      'stat.regex_timeouts',
      'stat.requests',
      'stat.replays',
      'stat.spawn_failures',
    ]) {
      expect(meta[key], key).toMatch(/^\d+$/);
    }
  });

  it('spawn with the default shell backend runs the task through sh -c; exit 0 → completed', async () => {
    const request = spawnRequest({
      name: 'sh-agent',
      model_backend: 'shell',
      task: 'echo "hello $((6*7))"; echo oops >&2',
    });
    const reply = await h.client.request(request);
    expect(reply.error ?? null).toBeNull();
    expect(reply.success).toBe(true);
    expect(reply.server_id).toBe(h.server.ready?.server_id);
    const info = reply.agent_info;
    if (info == null) throw new Error('spawn_response without agent_info');
    expect(info.id).toMatch(UUID_RE);
    expect(info.name).toBe('sh-agent');
    expect(info.model_backend).toBe('shell');
    expect(info.task).toBe(request.config.task);
    expect(['running', 'completed']).toContain(info.status);
    expect(Number(info.started_at.secs_since_epoch)).toBeGreaterThan(Date.now() / 1000 - 60);
    const lines = await waitForOutput(h.client, info.id, (l) => l.includes('hello 42') && l.includes('oops'));
    expect(lines).toEqual(expect.arrayContaining(['hello 42', 'oops']));
    await waitForStatus(h.client, info.id, 'completed');
  });

  it('a non-zero exit → failed', async () => {
    const agent = await spawnAgent(h.client, fixtureAgent('exit.js', { EXIT_CODE: '3' }));
    await waitForStatus(h.client, agent.id, 'failed');
  });

  it('spawn fills argv placeholders and builds the child env (inherit_env, environment, backend env, AGENT_CONTEXT, DESCARTES_AGENT_ID)', async () => {
    const agent = await spawnAgent(h.client, {
      name: 'reporter',
      model_backend: 'report',
      task: 'the task',
      model: 'model-x',
      tool_level: 'readonly',
      system_prompt: 'be brief',
      context: 'some context',
      environment: { T_AGENT: 'from-environment' },
    });
    const lines = await waitForOutput(h.client, agent.id, (l) => l.some((x) => x.startsWith('ENV ')), {
      stream: 'stdout',
    });
    const argv: unknown = JSON.parse((lines.find((l) => l.startsWith('ARGV ')) ?? 'ARGV null').slice(5));
    const env: unknown = JSON.parse((lines.find((l) => l.startsWith('ENV ')) ?? 'ENV null').slice(4));
    expect(argv).toEqual(['reporter', 'model-x', 'readonly', 'be brief', 'the task']);
    expect(env).toMatchObject({
      T_SERVER: 'from-server-env',
      T_AGENT: 'from-environment',
      T_BACKEND: 'from-backend',
      AGENT_CONTEXT: 'some context',
      DESCARTES_AGENT_ID: agent.id,
    });
    // Only the server variables inherit_env lists reach the agent.
    expect(env).not.toHaveProperty('T_SERVER_SECRET');
  });

  it('spawn failures: an unknown backend and a missing executable are named in the error', async () => {
    const unknown = await h.client.request(spawnRequest({ model_backend: 'no-such-backend', task: 'x' }));
    expect(unknown.success).toBe(false);
    expect(unknown.error).toContain('no-such-backend');
    expect(unknown.server_id).toBe(h.server.ready?.server_id);

    const claude = await h.client.request(spawnRequest({ model_backend: 'claude', task: 'hi' }));
    expect(claude.success).toBe(false);
    expect(claude.error).toBe("backend 'claude': executable 'claude' not found");

    const cli = await h.client.request(spawnRequest({ model_backend: 'descartes-nothing-cli', task: 'hi' }));
    expect(cli.success).toBe(false);
    expect(cli.error).toBe("backend 'descartes-nothing-cli': executable 'descartes-nothing' not found");

    const ghost = await h.client.request(spawnRequest({ model_backend: 'ghost', task: 'hi' }));
    expect(ghost.success).toBe(false);
    expect(ghost.error).toContain(GHOST_EXE);
    expect(ghost.error).toContain('not found');

    const health = await h.client.request(healthCheck());
    expect(Number(health.metadata?.['stat.spawn_failures'])).toBeGreaterThanOrEqual(4);
  });

  it('list_agents_request: all agents, filter_status, limit', async () => {
    const a = await spawnAgent(h.client, fixtureAgent('action-agent.js', {}, 'list-a'));
    const b = await spawnAgent(h.client, fixtureAgent('action-agent.js', {}, 'list-b'));
    const c = await spawnAgent(h.client, fixtureAgent('action-agent.js', {}, 'list-c'));
    const paused = await h.client.request(controlCommand(b.id, 'pause', { force: true }));
    expect(paused.success).toBe(true);

    const all = await h.client.request(listAgents());
    expect(all.success).toBe(true);
    const ids = all.agents.map((x) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id, c.id]));
    const listedB = all.agents.find((x) => x.id === b.id);
    expect(listedB?.status).toBe('paused');
    expect(listedB?.pause_mode).toBe('forced');
    expect(listedB?.paused_at).not.toBeNull();
    expect(listedB?.name).toBe('list-b');

    const onlyPaused = await h.client.request(listAgents({ filterStatus: 'paused' }));
    expect(onlyPaused.success).toBe(true);
    expect(onlyPaused.agents.map((x) => x.id)).toEqual([b.id]);

    const limited = await h.client.request(listAgents({ limit: 2 }));
    expect(limited.agents).toHaveLength(2);
    const runningLimited = await h.client.request(listAgents({ filterStatus: 'running', limit: 1 }));
    expect(runningLimited.agents).toHaveLength(1);
    expect(runningLimited.agents[0]?.status).toBe('running');

    for (const agent of [a, b, c]) await h.client.request(controlCommand(agent.id, 'kill'));
  });

  describe('on one action agent', () => {
    let agent: AgentInfo;
    let pid = 0;

    beforeAll(async () => {
      agent = await spawnAgent(h.client, fixtureAgent('action-agent.js'));
      pid = await actionAgentPid(h.client, agent.id);
    });

    /** A forced pause shows twice: the process is stopped (SIGSTOP) and the listing says `forced`. */
    async function expectForcedPause(): Promise<void> {
      await waitUntil(() => (isProcessStopped(pid) ? true : undefined), { what: 'agent process stopped' });
      const listed = (await h.client.request(listAgents())).agents.find((x) => x.id === agent.id);
      expect(listed?.pause_mode).toBe('forced');
    }

    /** Resumes the agent: the reply says running and the process continues (SIGCONT). */
    async function resumeAndExpectContinued(): Promise<void> {
      const resume = await h.client.request(controlCommand(agent.id, 'resume'));
      expect(resume.success).toBe(true);
      expect(resume.status).toBe('running');
      await waitUntil(() => (isProcessStopped(pid) ? undefined : true), { what: 'agent process continued' });
    }

    it('spawns (status running)', () => {
      expect(agent.status).toBe('running');
      expect(isProcessRunning(pid)).toBe(true);
    });

    it('get_status → {"status":"running"}', async () => {
      const reply = await h.client.request(controlCommand(agent.id, 'get_status'));
      expect(reply.success).toBe(true);
      expect(reply.agent_id).toBe(agent.id);
      expect(reply.data).toEqual({ status: 'running' });
    });

    it('pause {"force":true} stops the process (SIGSTOP); resume continues it', async () => {
      const pause = await h.client.request(controlCommand(agent.id, 'pause', { force: true }));
      expect(pause.success).toBe(true);
      expect(pause.status).toBe('paused');
      await expectForcedPause();
      expect(await getStatus(h.client, agent.id)).toBe('paused');

      await resumeAndExpectContinued();
      expect(await getStatus(h.client, agent.id)).toBe('running');
    });

    it('pause without force on a backend without cooperative pause stops the process (SIGSTOP, forced)', async () => {
      const pause = await h.client.request(controlCommand(agent.id, 'pause'));
      expect(pause.success).toBe(true);
      expect(pause.status).toBe('paused');
      expect(pause.data).toEqual({ pause_mode: 'forced' });
      await expectForcedPause();

      await resumeAndExpectContinued();
    });

    it('write_stdin writes the data as raw UTF-8', async () => {
      const reply = await h.client.request(
        controlCommand(agent.id, 'write_stdin', { data: 'héllo wörld\n' }),
      );
      expect(reply.success).toBe(true);
      await waitForLine(h.client, agent.id, 'stdin: héllo wörld');
    });

    it('read_stdout returns the next unread line, then {"bytes":0,"data":null}', async () => {
      const expected = (await queryOutput(h.client, agent.id, 'stdout', { limit: 10_000 })).lines;
      expect(expected.length).toBeGreaterThanOrEqual(2);
      const read: string[] = [];
      for (let i = 0; i < expected.length + 1; i++) {
        const reply = await h.client.request(controlCommand(agent.id, 'read_stdout'));
        expect(reply.success).toBe(true);
        const data = asObject(reply.data);
        if (data.data === null) {
          expect(data.bytes).toBe(0);
          break;
        }
        if (typeof data.data !== 'string') throw new Error(`read_stdout data.data: ${JSON.stringify(data)}`);
        const text = data.data;
        expect(data.bytes).toBeGreaterThanOrEqual(Buffer.byteLength(text));
        read.push(text.replace(/\r?\n$/, ''));
      }
      expect(read).toEqual(expected);
      const after = await h.client.request(controlCommand(agent.id, 'read_stdout'));
      expect(after.data).toEqual({ bytes: 0, data: null });
      // Non-destructive store: reading did not remove anything from output queries.
      expect((await queryOutput(h.client, agent.id, 'stdout', { limit: 10_000 })).lines).toEqual(expected);
    });

    it('read_stderr returns stderr lines the same way', async () => {
      const reply = await h.client.request(customAction(agent.id, 'add', { a: 1, b: 2 }));
      expect(reply.success).toBe(true);
      await waitForOutput(h.client, agent.id, (l) => l.length > 0, { stream: 'stderr' });
      const first = await h.client.request(controlCommand(agent.id, 'read_stderr'));
      expect(first.success).toBe(true);
      const data = asObject(first.data);
      expect(data.data).toMatch(new RegExp(`^action-received ${reply.request_id} add`));
      const second = await h.client.request(controlCommand(agent.id, 'read_stderr'));
      expect(second.data).toEqual({ bytes: 0, data: null });
    });

    it('stream_logs → {"enabled":true,"pub_endpoint":…,"topic":"<uuid>"}', async () => {
      const reply = await h.client.request(controlCommand(agent.id, 'stream_logs'));
      expect(reply.success).toBe(true);
      expect(reply.data).toEqual({ enabled: true, pub_endpoint: h.server.pub, topic: agent.id });
    });

    it('custom_action as a control_command (payload {"action","params"}) runs the action', async () => {
      const reply = await h.client.request(
        controlCommand(agent.id, 'custom_action', { action: 'echo', params: { x: 1, s: 'two' } }),
      );
      expect(reply.error ?? null).toBeNull();
      expect(reply.success).toBe(true);
      expect(reply.data).toEqual({ x: 1, s: 'two' });
    });

    it('query_output as a control_command (payload {"stream"}) returns the output in data', async () => {
      const reply = await h.client.request(controlCommand(agent.id, 'query_output', { stream: 'stdout' }));
      expect(reply.error ?? null).toBeNull();
      expect(reply.success).toBe(true);
      expect(JSON.stringify(reply.data)).toContain('agent-ready pid=');
    });

    it('signal: stop / continue act on the process; an unknown signal name is refused by name', async () => {
      const stop = await h.client.request(controlCommand(agent.id, 'signal', { signal: 'stop' }));
      expect(stop.success).toBe(true);
      await waitUntil(() => (isProcessStopped(pid) ? true : undefined), { what: 'SIGSTOP' });
      const cont = await h.client.request(controlCommand(agent.id, 'signal', { signal: 'continue' }));
      expect(cont.success).toBe(true);
      await waitUntil(() => (isProcessStopped(pid) ? undefined : true), { what: 'SIGCONT' });

      const bad = await h.client.request(controlCommand(agent.id, 'signal', { signal: 'bogus-signal' }));
      expect(bad.success).toBe(false);
      expect(bad.error).toContain('bogus-signal');
      expect(isProcessRunning(pid)).toBe(true);
    });

    it('stop sends SIGTERM: the process ends and the agent is terminated', async () => {
      const reply = await h.client.request(controlCommand(agent.id, 'stop'));
      expect(reply.success).toBe(true);
      await waitUntil(() => (isProcessRunning(pid) ? undefined : true), { what: 'agent process gone' });
      await waitForStatus(h.client, agent.id, 'terminated');
    });
  });

  it('kill sends SIGKILL, even to an agent that ignores SIGTERM', async () => {
    const agent = await spawnAgent(h.client, fixtureAgent('action-agent.js', { IGNORE_SIGTERM: '1' }));
    const pid = await actionAgentPid(h.client, agent.id);
    const reply = await h.client.request(controlCommand(agent.id, 'kill'));
    expect(reply.success).toBe(true);
    await waitUntil(() => (isProcessRunning(pid) ? undefined : true), {
      what: 'agent process gone',
      timeoutMs: 2000,
    });
    await waitForStatus(h.client, agent.id, 'terminated');
  });

  it('signal interrupt ends an agent', async () => {
    const agent = await spawnAgent(h.client, fixtureAgent('action-agent.js'));
    const pid = await actionAgentPid(h.client, agent.id);
    const reply = await h.client.request(controlCommand(agent.id, 'signal', { signal: 'interrupt' }));
    expect(reply.success).toBe(true);
    await waitUntil(() => (isProcessRunning(pid) ? undefined : true), {
      what: 'agent process gone after SIGINT',
    });
  });

  it('every command naming an unknown agent → success:false, "Agent not found: <uuid>"', async () => {
    const ghost = '6f1c2a9e-5b7d-4c3e-9a8b-0d1e2f3a4b5c';
    const payloads: Record<string, JsonValue> = {
      write_stdin: { data: 'x' },
      signal: { signal: 'interrupt' },
      custom_action: { action: 'anything', params: 1 },
      query_output: { stream: 'both' },
    };
    for (const command of CONTROL_COMMAND_TYPES) {
      const reply = await h.client.request(controlCommand(ghost, command, payloads[command] ?? null));
      expect(reply.success, command).toBe(false);
      expect(reply.agent_id, command).toBe(ghost);
      expect(reply.error, command).toBe(`Agent not found: ${ghost}`);
    }
    const action = await h.client.request(customAction(ghost, 'anything'));
    expect(action.success).toBe(false);
    expect(action.error).toBe(`Agent not found: ${ghost}`);
    const query = await h.client.request(outputQuery(ghost, 'both'));
    expect(query.success).toBe(false);
    expect(query.error).toBe(`Agent not found: ${ghost}`);
    const health = await h.client.request(healthCheck());
    expect(Number(health.metadata?.['stat.unknown_agent'])).toBeGreaterThanOrEqual(
      CONTROL_COMMAND_TYPES.length + 2,
    );
  });
});
