/**
 * The one contract between the renderer and the main process (or the browser host). The
 * preload exposes exactly {@link ConsoleApi} as `window.descartes`; the registrar binds one
 * handler per channel; the renderer calls it through `renderer/src/api.ts`. Nobody redeclares
 * these types.
 */
import type { AgentDetails } from '../domain/agentDetails';
import type { QueuedCommand } from '../domain/command';
import type { QuarantinedCommand, QueueHealth } from '../domain/quarantine';
import type { CommandResult } from '../domain/result';
import type { NumberedOutputPage, StoredTail } from '../domain/numberedOutput';
import type { ClientKeyInfo, ConnectionTestResult, ServerProfile, ServerStatus } from '../domain/server';
import type {
  AgentInfo,
  BatchControlResponse,
  CommandResponse,
  HealthCheckResponse,
  SpawnResponse,
  StatusUpdate,
} from '../protocol/types';
import type { IpcResult } from './result';
import type { ChannelName, InputOf } from './schemas';

/** Prefix of every IPC channel name. */
export const CHANNEL_PREFIX = 'descartes:';
/** The single channel on which main pushes {@link ConsoleEvents}. */
export const EVENT_CHANNEL = 'descartes:event';

/** The IPC channel of a contract method. */
export const channelOf = (name: ChannelName): string => `${CHANNEL_PREFIX}${name}`;

/** Which host serves the console. */
export type HostKind = 'electron' | 'browser';

export interface AppInfo {
  readonly version: string;
  readonly host: HostKind;
  /** Where queue, profiles and history live. */
  readonly dataDir: string;
  /** The local agent server the console started, if it did. */
  readonly embeddedServer: { readonly serverId: string; readonly endpoint: string } | null;
  /** Why the local agent server the console tried to start is missing; null when it started or was not needed. */
  readonly embeddedServerProblem: string | null;
  /** The platform (`linux`, `darwin`, `win32`…), e.g. for signal support. */
  readonly platform: string;
}

/** A server as the servers view lists it. */
export interface ServerView {
  readonly profile: ServerProfile;
  readonly status: ServerStatus;
}

/** What each channel resolves with (inside `IpcResult`). */
export interface ApiOutputs {
  appInfo: AppInfo;
  listServers: ServerView[];
  addServer: ServerProfile;
  updateServer: ServerProfile;
  removeServer: null;
  /**
   * Starts the console's own (embedded) agent server again after its process ended: same
   * ports, keys, allow list and state dir; resolves once it is ready, and its status then turns
   * online. Fails with `conflict` while it runs or starts, `offline` when it cannot start (the
   * message says why and what to do), `not_found` for any other server.
   */
  restartEmbeddedServer: null;
  testConnection: ConnectionTestResult;
  clientKey: ClientKeyInfo;
  health: HealthCheckResponse;
  listAgents: AgentInfo[];
  spawnAgent: CommandResult<SpawnResponse>;
  controlAgent: CommandResult<CommandResponse>;
  sendAction: CommandResult<CommandResponse>;
  batchControl: CommandResult<BatchControlResponse>;
  /** With original line numbers when the server reports them (`shared/domain/numberedOutput.ts`). */
  queryOutput: NumberedOutputPage;
  /** Process facts of the named agents; [] from a server without the `agent_details` capability. */
  agentDetails: AgentDetails[];
  listQueue: QueuedCommand[];
  history: QueuedCommand[];
  cancelCommand: QueuedCommand;
  retryCommand: QueuedCommand;
  /** Commands the queue could not read (kept, never sent) and notices about repairs it made. */
  queueHealth: QueueHealth;
  /** The quarantined command deleted. */
  discardQuarantined: QuarantinedCommand;
  dismissQueueNotice: null;
  exportHistory: string;
  subscribeStatus: { subscriptionId: string };
  tailLogs: { subscriptionId: string };
  unsubscribe: null;
}

/** Every contract method: takes its channel's input, never throws, resolves an IpcResult. */
export type ConsoleMethods = {
  [K in ChannelName]: InputOf<K> extends undefined
    ? () => Promise<IpcResult<ApiOutputs[K]>>
    : (input: InputOf<K>) => Promise<IpcResult<ApiOutputs[K]>>;
};

/** A log chunk as the output viewer receives it: decoded text, not bytes. */
export interface LogChunkView {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly sequence: number;
}

/**
 * A notification. `subject` names the command it is about (a failed or outcome-unknown
 * command), so a renderer shows one row per command however often it is announced.
 */
export interface NotificationEvent {
  level: 'info' | 'warning' | 'error';
  title: string;
  body: string;
  subject?: { serverId: string; commandId: string; agentId: string | null };
}

/** Events main pushes to the renderer, coalesced to at most ~20 batches per second. */
export interface ConsoleEvents {
  /** Server states changed (every server's latest status). */
  servers: ServerStatus[];
  /** Status updates of subscribed servers, oldest first. */
  status: { serverId: string; updates: StatusUpdate[] };
  /** The status stream lost updates or the server restarted: re-list that server's agents. */
  resync: { serverId: string; reason: string };
  /** Log chunks of a tail subscription, oldest first. */
  logs: { subscriptionId: string; chunks: LogChunkView[] };
  /**
   * Chunks of a tail were lost (the server's PUB dropped them, or this window fell behind):
   * the agent's newest stored lines, with their streams when the server reports them.
   * `lostFrom` is the sequence of the first chunk lost: chunks of this tail delivered with a
   * lower sequence came before the loss, those with a higher one after it. Absent when unknown
   * (then every chunk delivered so far came before it).
   */
  backfill: { subscriptionId: string; lostFrom?: number } & StoredTail;
  /** Commands whose state changed (newest version of each). */
  queue: QueuedCommand[];
  /** Something the operator should notice (e.g. a failed command, a server gone offline). */
  notification: NotificationEvent;
}

export type ConsoleEventName = keyof ConsoleEvents;

/** Every event name, in a stable order (the preload accepts exactly these). */
export const EVENT_NAMES = [
  'servers',
  'status',
  'resync',
  'logs',
  'backfill',
  'queue',
  'notification',
] as const satisfies readonly ConsoleEventName[];

/**
 * `true` when `List` names every member of `Union`, else the missing names: assigning `true` to
 * it fails to compile when a name is left out of a list that must be complete.
 */
type CompleteList<Union, List extends readonly Union[]> = [Exclude<Union, List[number]>] extends [never]
  ? true
  : Exclude<Union, List[number]>;

/** Fails to compile when an event of {@link ConsoleEvents} is missing from EVENT_NAMES. */
export const EVENTS_COMPLETE: CompleteList<ConsoleEventName, typeof EVENT_NAMES> = true;

/** One pushed event on {@link EVENT_CHANNEL}. */
export type ConsoleEventEnvelope = {
  [K in ConsoleEventName]: { name: K; payload: ConsoleEvents[K] };
}[ConsoleEventName];

/** What the preload exposes as `window.descartes` (and the browser client implements). */
export interface ConsoleApi extends ConsoleMethods {
  /** Listens to one event kind. Returns an unsubscribe function. */
  on<K extends ConsoleEventName>(name: K, handler: (payload: ConsoleEvents[K]) => void): () => void;
}

/** Every contract method name, in a stable order (the preload and registrar iterate it). */
export const CHANNEL_NAMES = [
  'appInfo',
  'listServers',
  'addServer',
  'updateServer',
  'removeServer',
  'restartEmbeddedServer',
  'testConnection',
  'clientKey',
  'health',
  'listAgents',
  'spawnAgent',
  'controlAgent',
  'sendAction',
  'batchControl',
  'queryOutput',
  'agentDetails',
  'listQueue',
  'history',
  'cancelCommand',
  'retryCommand',
  'queueHealth',
  'discardQuarantined',
  'dismissQueueNotice',
  'exportHistory',
  'subscribeStatus',
  'tailLogs',
  'unsubscribe',
] as const satisfies readonly ChannelName[];

/** Fails to compile when a channel of `schemas` is missing from CHANNEL_NAMES. */
export const CHANNELS_COMPLETE: CompleteList<ChannelName, typeof CHANNEL_NAMES> = true;
