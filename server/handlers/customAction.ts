import { NIL_UUID, type CommandResponse, type JsonValue, type Uuid } from '../../shared/protocol';
import { AgentCommandError } from '../agentProcess';
import type { AgentProcess } from '../agentProcess';
import type { HandlerContext } from './context';
import { agentNotFound, commandResponse } from './wire';

/** A built-in custom action, answered by the server itself. */
export interface BuiltinAction {
  readonly name: string;
  readonly description: string;
  readonly params_schema: JsonValue;
  /** Whether it needs a real agent (the others also accept the nil UUID as agent_id). */
  readonly needsAgent: boolean;
}

export const BUILTIN_ACTIONS: readonly BuiltinAction[] = [
  { name: 'echo', description: 'Returns its params unchanged.', params_schema: {}, needsAgent: false },
  {
    name: 'ping',
    description: 'Answers {"pong": true, "server_time_ms": <ms since the epoch>}.',
    params_schema: { type: 'null' },
    needsAgent: false,
  },
  {
    name: 'get_env',
    description:
      'The names of the agent\'s environment variables, sorted: {"names": [...], "values": null}. With expose_env_values in the server config, "values" maps each name to its value, except names that look secret (TOKEN, SECRET, PASSWORD, KEY, CREDENTIAL…), whose value reads "<redacted>".',
    params_schema: { type: 'null' },
    needsAgent: true,
  },
  {
    name: 'list_actions',
    description:
      'The built-in actions with descriptions and param schemas. Other names are forwarded to the agent.',
    params_schema: { type: 'null' },
    needsAgent: false,
  },
  {
    name: 'agent_details',
    description:
      'Process facts of agents: {"agents": [{agent_id, pid, started_at_ms, ended_at_ms, exit_code, signal, end_reason, pending_request}]}, for the agents in params.agent_ids (at most 1000; unknown ids are left out) or for every known agent. end_reason: completed, failed, operator, signal, lost, or null while it runs.',
    params_schema: {
      type: ['object', 'null'],
      properties: { agent_ids: { type: 'array', items: { type: 'string' }, maxItems: 1000 } },
    },
    needsAgent: false,
  },
  {
    name: 'stats',
    description: "The server's counters (bad input, replays, timeouts…) as numbers.",
    params_schema: { type: 'null' },
    needsAgent: false,
  },
];

/** Environment names whose values `get_env` hides. */
export const SECRET_ENV_NAME =
  /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION/i;

/** An environment with secret-looking values replaced by `<redacted>`, names sorted. */
export function redactEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort())
    out[name] = SECRET_ENV_NAME.test(name) ? '<redacted>' : (env[name] ?? '');
  return out;
}

/**
 * The `get_env` answer: `{"names": [sorted names], "values": null}`, or with `exposeValues`
 * (config `expose_env_values`) `"values"` maps every name to its value, secret-looking names
 * redacted even then ({@link redactEnv}). Names only by default because a value can be a
 * credential the operator put in a backend's env, and every allowed client may call `get_env`.
 */
export function envReport(env: Readonly<Record<string, string>>, exposeValues: boolean): JsonValue {
  return { names: Object.keys(env).sort(), values: exposeValues ? redactEnv(env) : null };
}

/** Most ids one `agent_details` request may name. */
export const MAX_DETAILS_IDS = 1000;

/**
 * The `agent_details` answer (docs/PROTOCOL.md §4.2): facts of the named agents (unknown ids
 * left out), or of every known agent when `params` is null or has no `agent_ids`.
 * @returns the result, or an error sentence naming what is wrong with `params`
 */
export function agentDetailsAnswer(ctx: HandlerContext, params: JsonValue): JsonValue | string {
  let agents: AgentProcess[];
  const fields =
    typeof params === 'object' && params !== null && !Array.isArray(params) && !(params instanceof Uint8Array)
      ? params
      : null;
  if (params !== null && fields === null) {
    return 'agent_details: params must be null or {"agent_ids": ["<uuid>", …]}';
  }
  const ids = fields?.agent_ids;
  if (ids === undefined || ids === null) agents = ctx.supervisor.list();
  else {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string') || ids.length > MAX_DETAILS_IDS) {
      return `agent_details: agent_ids must be an array of at most ${MAX_DETAILS_IDS} agent id strings`;
    }
    agents = [];
    for (const id of new Set(ids as string[])) {
      const agent = ctx.supervisor.get(id);
      if (agent) agents.push(agent);
    }
  }
  return {
    agents: agents.map((a) => {
      const d = a.details();
      return {
        agent_id: d.agentId,
        pid: d.pid,
        started_at_ms: d.startedAtMs,
        ended_at_ms: d.endedAtMs,
        exit_code: d.exitCode,
        signal: d.signal,
        end_reason: d.endReason,
        pending_request: d.pendingRequest,
      };
    }),
  };
}

/**
 * Runs a custom action: a built-in, or forwarded to the agent's stdin as
 * `{"type":"action","id":<request_id>,"action":…,"params":…}` and answered by its first
 * `{"type":"action_result","id":<request_id>,…}` stdout line.
 * @param timeoutSecs wait for a forwarded action; null → the configured default (30 s)
 */
export async function runCustomAction(
  ctx: HandlerContext,
  requestId: string,
  agentId: Uuid,
  action: string,
  params: JsonValue,
  timeoutSecs: number | null,
): Promise<CommandResponse> {
  const agent: AgentProcess | undefined = ctx.supervisor.get(agentId);
  const builtin = BUILTIN_ACTIONS.find((b) => b.name === action);
  const status = agent?.status ?? null;
  const ok = (data: JsonValue): CommandResponse =>
    commandResponse(requestId, agentId, true, status, data, null);
  if (!agent && !(builtin && !builtin.needsAgent && agentId === NIL_UUID)) {
    ctx.stats.increment('unknown_agent');
    return commandResponse(requestId, agentId, false, null, null, agentNotFound(agentId));
  }
  if (builtin) {
    switch (builtin.name) {
      case 'echo':
        return ok(params);
      case 'ping':
        return ok({ pong: true, server_time_ms: Date.now() });
      case 'get_env':
        return ok(envReport(agent?.env ?? {}, ctx.config.exposeEnvValues));
      case 'list_actions':
        return ok(
          BUILTIN_ACTIONS.map((b) => ({
            name: b.name,
            description: b.description,
            params_schema: b.params_schema,
          })),
        );
      case 'stats':
        return ok(ctx.stats.snapshot());
      case 'agent_details': {
        const answer = agentDetailsAnswer(ctx, params);
        return typeof answer === 'string'
          ? commandResponse(requestId, agentId, false, status, null, answer)
          : ok(answer);
      }
      default:
        break;
    }
  }
  if (!agent) return commandResponse(requestId, agentId, false, null, null, agentNotFound(agentId));
  if (action === '')
    return commandResponse(
      requestId,
      agentId,
      false,
      status,
      null,
      'custom action: the action name is empty',
    );
  const secs = timeoutSecs ?? ctx.config.actionTimeoutSecs;
  try {
    const result = await agent.forwardAction(requestId, action, params, Math.min(secs, 86_400) * 1000);
    if (result === null) {
      ctx.stats.increment('action_timeouts');
      return commandResponse(
        requestId,
        agentId,
        false,
        agent.status,
        null,
        `custom action '${action}' timed out after ${secs} s without an action_result from the agent`,
      );
    }
    return commandResponse(
      requestId,
      agentId,
      result.ok,
      agent.status,
      result.result,
      result.ok ? null : (result.error ?? `custom action '${action}' failed`),
    );
  } catch (error) {
    if (error instanceof AgentCommandError)
      return commandResponse(requestId, agentId, false, agent.status, null, error.message);
    throw error;
  }
}
