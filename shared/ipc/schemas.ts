/**
 * Input schemas of every IPC channel (zod). The registrar and the browser host parse each
 * argument with these before a service sees it; the renderer may use them to validate forms.
 */
import { z } from 'zod';
import { AGENT_STATUSES, CONTROL_COMMAND_TYPES, OUTPUT_STREAMS } from '../protocol/types';
import { MAX_DETAILS_AGENTS } from '../domain/agentDetails';
import { COMMAND_STATES } from '../domain/command';
import { CurveKeyError, parseCurveKey } from '../domain/curveKey';
import { filterErrorText, parseOutputFilter } from '../domain/outputFilter';

const uuid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a UUID');
const serverId = z.string().min(1, 'serverId is required').max(200);
const expiresAt = z.number().int().positive().nullable().optional();
/** A timeout the operator types, in whole seconds; one message for every way it can be wrong. */
export const TIMEOUT_SECS_MESSAGE =
  'enter a whole number of seconds from 1 to 86400 (24 h), or leave it empty';
export const timeoutSecs = z
  .number({ error: TIMEOUT_SECS_MESSAGE })
  .int({ error: TIMEOUT_SECS_MESSAGE })
  .min(1, { error: TIMEOUT_SECS_MESSAGE })
  .max(86_400, { error: TIMEOUT_SECS_MESSAGE })
  .optional();
/** Any JSON value (what custom action params and payloads are). */
export const jsonValue: z.ZodType = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

/** A server's public key: 40 Z85 characters; the message says what is wrong with it. */
export const curveKeyText = z
  .string()
  .max(200)
  .transform((text, ctx) => {
    try {
      return parseCurveKey(text, 'server key');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof CurveKeyError ? e.message : String(e) });
      return z.NEVER;
    }
  });

/**
 * An output-query filter the server accepts (`shared/domain/outputFilter`: ≤ 1 KiB of UTF-8,
 * `pattern` or `/pattern/flags`); the message is the server's own "invalid regex: …".
 */
export const outputFilter = z.string().superRefine((text, ctx) => {
  const parsed = parseOutputFilter(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: filterErrorText(parsed) });
});

/** Encrypted with a pinned key, or plain by explicit choice: there is no default. */
export const serverSecurity = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('curve'), serverKey: curveKeyText }),
  z.strictObject({ mode: z.literal('plain') }),
]);

const endpoint = z
  .string()
  .trim()
  .regex(/^tcp:\/\/(\[[^\]]+\]|[^:/\s]+):\d{1,5}$/, 'endpoint must look like tcp://host:port');

export const serverProfileInput = z.strictObject({
  name: z.string().trim().min(1, 'name is required').max(100),
  endpoint,
  heartbeatIntervalMs: z.number().int().min(100).max(600_000).nullable().optional(),
  security: serverSecurity,
});

export const schemas = {
  appInfo: z.undefined(),
  listServers: z.undefined(),
  addServer: serverProfileInput,
  updateServer: z.strictObject({ serverId, input: serverProfileInput }),
  removeServer: z.strictObject({ serverId, cancelPending: z.boolean().optional() }),
  restartEmbeddedServer: z.strictObject({ serverId }),
  testConnection: z.strictObject({
    endpoint,
    security: serverSecurity,
    /** How long to try, ms; default 5000. */
    timeoutMs: z.number().int().min(200).max(60_000).optional(),
  }),
  clientKey: z.undefined(),

  health: z.strictObject({ serverId }),
  listAgents: z.strictObject({
    serverId,
    status: z.enum(AGENT_STATUSES).optional(),
    limit: z.number().int().min(1).max(100_000).optional(),
  }),
  spawnAgent: z.strictObject({
    serverId,
    config: z.strictObject({
      // Trimmed here, not by each caller: the window and ctl then send the same name.
      name: z.string().trim().min(1, 'name is required').max(200),
      model_backend: z.string().trim().min(1, 'backend is required').max(100),
      // Not trimmed (leading spaces may matter to a backend), but a blank task would start an
      // agent with nothing to do: the window and ctl refuse it before anything is sent.
      task: z
        .string()
        .max(1_000_000)
        .refine((task) => task.trim() !== '', 'task is required: say what the agent should do'),
      context: z.string().max(1_000_000).nullable().optional(),
      system_prompt: z.string().max(1_000_000).nullable().optional(),
      environment: z
        .record(
          z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'),
          z.string(),
        )
        .optional(),
      model: z.string().max(200).nullable().optional(),
      tool_level: z.string().max(100).nullable().optional(),
    }),
    timeoutSecs,
    expiresAt,
  }),
  controlAgent: z.strictObject({
    serverId,
    agentId: uuid,
    command: z.enum(CONTROL_COMMAND_TYPES),
    payload: jsonValue.optional(),
    expiresAt,
  }),
  sendAction: z.strictObject({
    serverId,
    agentId: uuid,
    action: z.string().min(1, 'action is required').max(200),
    params: jsonValue.optional(),
    timeoutSecs,
    expiresAt,
  }),
  batchControl: z.strictObject({
    serverId,
    agentIds: z.array(uuid).max(100_000),
    command: z.enum(CONTROL_COMMAND_TYPES),
    payload: jsonValue.optional(),
    failFast: z.boolean(),
    expiresAt,
  }),
  agentDetails: z.strictObject({
    serverId,
    agentIds: z.array(uuid).min(1, 'name at least one agent').max(MAX_DETAILS_AGENTS),
  }),
  queryOutput: z.strictObject({
    serverId,
    agentId: uuid,
    stream: z.enum(OUTPUT_STREAMS),
    filter: outputFilter.nullable().optional(),
    limit: z.number().int().min(0).max(10_000).optional(),
    offset: z.number().int().min(0).optional(),
  }),

  listQueue: z.strictObject({
    serverId: serverId.optional(),
    states: z.array(z.enum(COMMAND_STATES as unknown as [string, ...string[]])).optional(),
  }),
  history: z.strictObject({
    serverId: serverId.optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    before: z.strictObject({ settledAt: z.number(), seq: z.number() }).optional(),
  }),
  cancelCommand: z.strictObject({ id: uuid }),
  retryCommand: z.strictObject({ id: uuid, expiresAt }),
  queueHealth: z.strictObject({ serverId: serverId.optional() }),
  discardQuarantined: z.strictObject({ entry: z.number().int().positive() }),
  dismissQueueNotice: z.strictObject({ id: z.number().int().positive() }),
  exportHistory: z.strictObject({ format: z.enum(['json', 'csv']), serverId: serverId.optional() }),

  subscribeStatus: z.strictObject({ serverId }),
  tailLogs: z.strictObject({ serverId, agentId: uuid }),
  unsubscribe: z.strictObject({ subscriptionId: z.string().min(1).max(100) }),
} as const;

export type Schemas = typeof schemas;
export type ChannelName = keyof Schemas;
export type InputOf<K extends ChannelName> = z.input<Schemas[K]>;

/** Formats a zod error as one sentence naming the field(s). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'input'}: ${issueMessage(i)}`)
    .join('; ');
}

/** An issue's message; for a refused record key, why the key was refused (not "Invalid key"). */
export function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
}
