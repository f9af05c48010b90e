/** The signals an agent can be sent (the `signal` control command's payload; docs/PROTOCOL.md). */
export const SIGNALS = ['interrupt', 'terminate', 'kill', 'stop', 'continue'] as const;

export type SignalName = (typeof SIGNALS)[number];
