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
