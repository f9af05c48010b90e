import type { CommandResponse, ControlCommandType, JsonValue, Uuid } from '../../shared/protocol';
import { OUTPUT_STREAMS } from '../../shared/protocol';
import { AgentCommandError, SIGNAL_NAMES } from '../agentProcess';
import type { AgentProcess, PauseOutcome, SignalName } from '../agentProcess';
import type { HandlerContext } from './context';
import { runCustomAction } from './customAction';
import { DEFAULT_QUERY_LIMIT, queryOutput } from './outputQuery';
import { agentNotFound, commandResponse, payloadObject } from './wire';

/** How long stop/kill/signal wait for the process to exit before replying, in ms. */
const STOP_WAIT_MS = 2000;
const SIGNAL_WAIT_MS = 300;

function nonNegativeInt(value: JsonValue | undefined, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'bigint') return value < 0n ? -1 : Number(value);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new AgentCommandError(`query_output: '${name}' must be a non-negative integer`);
  }
  return value;
}

/**
 * Runs one `control_command` (also used per agent by batches).
 * `command_response.status` is the agent's status after the command; stop and kill wait up to
 * 2 s for the exit so the reply can say `terminated`.
 */
export async function runControl(
  ctx: HandlerContext,
  requestId: string,
  agentId: Uuid,
  command: ControlCommandType,
  payload: JsonValue | undefined,
): Promise<CommandResponse> {
  const agent = ctx.supervisor.get(agentId);
  if (!agent) {
    ctx.stats.increment('unknown_agent');
    return commandResponse(requestId, agentId, false, null, null, agentNotFound(agentId));
  }
  try {
    const data = await execute(ctx, requestId, agent, command, payload ?? null);
    if ('reply' in data) return data.reply;
    return commandResponse(requestId, agentId, true, agent.status, data.data, null);
  } catch (error) {
    if (error instanceof AgentCommandError)
      return commandResponse(requestId, agentId, false, agent.status, null, error.message);
    throw error;
  }
}

type Outcome = { readonly data: JsonValue } | { readonly reply: CommandResponse };

async function execute(
  ctx: HandlerContext,
  requestId: string,
  agent: AgentProcess,
  command: ControlCommandType,
  payload: JsonValue,
): Promise<Outcome> {
  const fields = payloadObject(payload);
  switch (command) {
    case 'pause':
      return { data: pauseData(await agent.pause(fields?.force === true)) };
    case 'resume': {
      const outcome = await agent.resume(fields?.force === true);
      return { data: outcome === null ? null : pauseData(outcome) };
    }
    case 'stop':
      agent.sendSignal('SIGTERM');
      await agent.waitExit(STOP_WAIT_MS);
      return { data: null };
    case 'kill':
      agent.sendSignal('SIGKILL');
      await agent.waitExit(STOP_WAIT_MS);
      return { data: null };
    case 'signal': {
      const name = fields?.signal;
      const valid = Object.keys(SIGNAL_NAMES).join(', ');
      if (typeof name !== 'string' || !Object.hasOwn(SIGNAL_NAMES, name)) {
        throw new AgentCommandError(
          `signal: payload needs {"signal": <name>} with one of ${valid}; got ${JSON.stringify(typeof name === 'string' ? name : (payload ?? null), jsonSafe)}`,
        );
      }
      const signal = SIGNAL_NAMES[name as SignalName];
      agent.sendSignal(signal);
      if (signal === 'SIGTERM' || signal === 'SIGKILL' || signal === 'SIGINT')
        await agent.waitExit(SIGNAL_WAIT_MS);
      return { data: { signal: name } };
    }
    case 'write_stdin': {
      const data = typeof payload === 'string' ? payload : fields?.data;
      if (typeof data !== 'string')
        throw new AgentCommandError('write_stdin: payload needs {"data": "<text>"}');
      const bytes = await agent.writeStdin(data, fields?.close === true);
      return { data: { bytes } };
    }
    case 'read_stdout':
    case 'read_stderr': {
      const line = agent.readLine(command === 'read_stdout' ? 'stdout' : 'stderr');
      return {
        data:
          line === null ? { bytes: 0, data: null } : { bytes: Buffer.byteLength(line, 'utf8'), data: line },
      };
    }
    case 'get_status':
      return { data: { status: agent.status } };
    case 'stream_logs':
      return { data: { enabled: true, pub_endpoint: ctx.pubEndpoint, topic: agent.id } };
    case 'custom_action': {
      const action = fields?.action;
      if (typeof action !== 'string') {
        throw new AgentCommandError(
          'custom_action: payload needs {"action": "<name>", "params": …, "timeout_secs": n}',
        );
      }
      const timeout = fields?.timeout_secs;
      const secs =
        typeof timeout === 'number' && timeout > 0
          ? timeout
          : typeof timeout === 'bigint'
            ? Number(timeout)
            : null;
      return { reply: await runCustomAction(ctx, requestId, agent.id, action, fields?.params ?? null, secs) };
    }
    case 'query_output': {
      const streamValue = fields?.stream ?? 'both';
      if (typeof streamValue !== 'string' || !(OUTPUT_STREAMS as readonly string[]).includes(streamValue)) {
        throw new AgentCommandError(`query_output: 'stream' must be one of ${OUTPUT_STREAMS.join(', ')}`);
      }
      const filter = fields?.filter;
      if (filter !== undefined && filter !== null && typeof filter !== 'string') {
        throw new AgentCommandError("query_output: 'filter' must be a string");
      }
      const result = await queryOutput(
        ctx,
        agent,
        streamValue as (typeof OUTPUT_STREAMS)[number],
        filter ?? null,
        nonNegativeInt(fields?.limit, 'limit', DEFAULT_QUERY_LIMIT),
        nonNegativeInt(fields?.offset, 'offset', 0),
      );
      if (!result.ok) throw new AgentCommandError(result.error);
      return {
        data: {
          lines: result.lines,
          total_lines: result.totalLines,
          has_more: result.hasMore,
          dropped_lines: result.droppedLines,
          // Capability `output_line_numbers` (docs/PROTOCOL.md §4.4): JSON is free here, unlike
          // the positional output_query_response.
          line_numbers: result.lineNumbers,
          ...(streamValue === 'both' ? { streams: result.streams } : {}),
        },
      };
    }
    default: {
      const never: never = command;
      throw new AgentCommandError(`unknown command type ${String(never)}`);
    }
  }
}

/** `{"pause_mode": …}`, plus `"pending"` while the agent has not acknowledged (docs/PROTOCOL.md §4.1). */
function pauseData(outcome: PauseOutcome): JsonValue {
  return outcome.pending === null
    ? { pause_mode: outcome.mode }
    : { pause_mode: outcome.mode, pending: outcome.pending };
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
