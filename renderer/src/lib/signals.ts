import type { JsonValue, RequestMessage } from '../../../shared/protocol/types';

/** The signals the protocol names (docs/PROTOCOL.md §4.1). */
export const SIGNALS = ['interrupt', 'terminate', 'kill', 'stop', 'continue'] as const;

export type SignalName = (typeof SIGNALS)[number];

/**
 * The destructive command a signal amounts to, so it asks the same confirmation: `terminate`
 * is a stop (SIGTERM), `kill` a kill (SIGKILL); null for signals that do not end the agent.
 */
export function destructiveSignal(signal: SignalName): 'stop' | 'kill' | null {
  if (signal === 'terminate') return 'stop';
  if (signal === 'kill') return 'kill';
  return null;
}

/**
 * The confirmation a control command (or batch) with `payload` needs before it is sent: `stop`
 * and `kill`, and a `signal` that amounts to one; null when it needs none.
 */
export function destructiveCommand(command: string, payload: JsonValue | undefined): 'stop' | 'kill' | null {
  if (command === 'stop' || command === 'kill') return command;
  if (command !== 'signal' || typeof payload !== 'object' || payload === null || !('signal' in payload))
    return null;
  const name = SIGNALS.find((s) => s === payload.signal);
  return name === undefined ? null : destructiveSignal(name);
}

/**
 * What a queued request would end if it were sent again (a retry from the history or the queue
 * asks the same confirmation as the first send), or null for a request that ends nothing.
 */
export function destructiveRequest(
  request: RequestMessage,
): { command: 'stop' | 'kill'; agentIds: string[] } | null {
  if (request.type === 'control_command') {
    const command = destructiveCommand(request.command_type, request.payload);
    return command === null ? null : { command, agentIds: [request.agent_id] };
  }
  if (request.type === 'batch_control_command') {
    const command = destructiveCommand(request.command_type, request.payload);
    return command === null ? null : { command, agentIds: [...request.agent_ids] };
  }
  return null;
}
