import { randomUUID } from 'node:crypto';
import type { AgentConfig, Uuid } from '../shared/protocol';
import { buildAgentEnv } from './agentEnv';
import { AgentProcess } from './agentProcess';
import type { AgentRecords } from './agentRecords';
import { LineStore } from './lineStore';
import { OutputBudget } from './query/outputBudget';
import { resolveBackend } from './backends';
import type { ServerConfig } from './config';
import type { EventSink } from './publisher';
import type { Stats } from './stats';

export interface SupervisorOptions {
  readonly config: ServerConfig;
  readonly events: EventSink;
  readonly stats: Stats;
  /** Most agents not yet exited. */
  readonly maxAgents: number;
  /** Working directory of children (the server's cwd). */
  readonly cwd?: string;
  /** The server environment agents inherit allow-listed variables from (default `process.env`). */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Exited agents kept for list/queries; older ones are forgotten (default `config.maxExitedAgents`). */
  readonly keepExited?: number;
  /** The state dir's records: agents of earlier runs are listed, new ones recorded (none: memory only). */
  readonly records?: AgentRecords | null;
}

export type SpawnResult =
  { readonly ok: true; readonly agent: AgentProcess } | { readonly ok: false; readonly error: string };

/**
 * Owns the agents: starts them from backends, enforces the agent limit, keeps exited agents
 * (up to `keepExited`, default `max_exited_agents`) for list and output queries, and stops
 * everything at shutdown. Every agent's output counts against one {@link OutputBudget}
 * (`line_store.total_bytes`); the stats show it as `output_bytes_held` and
 * `output_lines_dropped`.
 */
export class Supervisor {
  private readonly agents = new Map<Uuid, AgentProcess>();
  private readonly exitedOrder: AgentProcess[] = [];
  private readonly outputBudget: OutputBudget;
  private starting = 0;
  private running = 0;
  private shuttingDown = false;

  constructor(private readonly options: SupervisorOptions) {
    const { stats } = options;
    this.outputBudget = new OutputBudget(options.config.totalOutputBytes, (lines) => {
      stats.increment('output_lines_dropped', lines);
    });
    stats.gauge('output_bytes_held', () => this.outputBudget.heldBytes);
    this.restore();
  }

  /** Lists the agents of earlier runs (ended, or lost) with their output, oldest first. */
  private restore(): void {
    const records = this.options.records;
    if (!records) return;
    const { config, events } = this.options;
    for (const old of records.restored) {
      const { record } = old;
      const lines = new LineStore(config.lineStore, { budget: this.outputBudget });
      lines.skipDropped(record.dropped_stdout, record.dropped_stderr);
      old.readInto(lines);
      lines.retire();
      const launch = {
        id: record.id,
        name: record.name,
        backend: record.backend,
        task: record.task,
        argv: [],
        env: {},
        cwd: this.options.cwd ?? process.cwd(),
        lineLimits: config.lineStore,
      };
      const agent = AgentProcess.restore(launch, old.facts, lines, events);
      this.agents.set(agent.id, agent);
      this.remember(agent);
    }
  }

  /** Agents that have not exited. */
  get activeCount(): number {
    return this.running;
  }

  /** The agent with this id, or undefined. */
  get(id: Uuid): AgentProcess | undefined {
    return this.agents.get(id);
  }

  /** Every known agent, oldest first. */
  list(): AgentProcess[] {
    return [...this.agents.values()];
  }

  /**
   * Starts an agent. Environment: see {@link buildAgentEnv} (the server's allow-listed
   * variables, then `config.environment`, then the backend's env from the config file, then
   * `AGENT_CONTEXT` and `DESCARTES_AGENT_ID`).
   * @returns an error naming the backend/executable, the limit, or the refused or bad variable
   */
  async spawn(config: AgentConfig): Promise<SpawnResult> {
    const { stats } = this.options;
    const fail = (error: string): SpawnResult => {
      stats.increment('spawn_failures');
      return { ok: false, error };
    };
    if (this.shuttingDown) return fail('the server is shutting down');
    if (this.running + this.starting >= this.options.maxAgents) {
      return fail(`agent limit reached: ${this.options.maxAgents} agents are running (max_agents)`);
    }
    const resolved = resolveBackend(config, this.options.config);
    if (!resolved.ok) return fail(resolved.error);
    const id = randomUUID();
    const built = buildAgentEnv({
      serverEnv: this.options.baseEnv ?? process.env,
      inheritEnv: this.options.config.inheritEnv,
      requestEnv: config.environment,
      backendEnv: resolved.command.env,
      context: config.context,
      agentId: id,
    });
    if (!built.ok) return fail(built.error);
    const env = built.env;
    if (resolved.command.argv.some((a) => a.includes('\0')))
      return fail(`backend '${resolved.command.backend}': an argument contains a NUL byte`);
    this.starting++;
    let result;
    const journal = this.options.records?.create({
      id,
      name: config.name,
      backend: resolved.command.backend,
      task: config.task,
    });
    try {
      result = await AgentProcess.start(
        {
          id,
          name: config.name,
          backend: resolved.command.backend,
          task: config.task,
          argv: resolved.command.argv,
          env,
          cwd: this.options.cwd ?? process.cwd(),
          lineLimits: this.options.config.lineStore,
          outputBudget: this.outputBudget,
          pause: resolved.command.pause,
          ...(journal ? { journal } : {}),
        },
        this.options.events,
        (agent) => {
          this.onExit(agent);
        },
      );
    } finally {
      this.starting--;
    }
    if (!result.ok) {
      this.options.records?.forget(id);
      return fail(result.error);
    }
    if (result.agent.active) this.running++;
    this.agents.set(id, result.agent);
    stats.increment('spawned');
    return result;
  }

  private onExit(agent: AgentProcess): void {
    // An agent that exits during start() is not counted yet (it is added after start resolves).
    if (this.agents.has(agent.id)) this.running--;
    agent.lines.retire();
    this.remember(agent);
  }

  /** Keeps an exited agent; the oldest exited ones beyond `keepExited` are forgotten. */
  private remember(agent: AgentProcess): void {
    this.exitedOrder.push(agent);
    const keep = this.options.keepExited ?? this.options.config.maxExitedAgents;
    while (this.exitedOrder.length > keep) {
      const old = this.exitedOrder.shift();
      if (old === undefined) break;
      old.lines.release();
      this.agents.delete(old.id);
      this.options.records?.forget(old.id);
    }
  }

  /**
   * Stops every agent: SIGTERM, then SIGKILL after `graceMs`, and waits for them to exit
   * (at most `graceMs` + 2 s). New spawns are refused from now on.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    const live = this.list().filter((a) => a.active);
    for (const agent of live) {
      agent.markStopping();
      try {
        agent.sendSignal('SIGTERM');
      } catch {
        // exited meanwhile
      }
    }
    const exitedInTime = await Promise.all(live.map((a) => a.waitExit(graceMs)));
    const stubborn = live.filter((_a, i) => exitedInTime[i] !== true);
    for (const agent of stubborn) {
      try {
        agent.sendSignal('SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await Promise.all(stubborn.map((a) => a.waitExit(2000)));
  }
}
