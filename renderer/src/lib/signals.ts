/** The signals the protocol names (docs/PROTOCOL.md §4.1). */
export const SIGNALS = ['interrupt', 'terminate', 'kill', 'stop', 'continue'] as const;

export type SignalName = (typeof SIGNALS)[number];
