import * as zmq from 'zeromq';
import type {
  AgentStatus,
  EventMessage,
  JsonValue,
  LogStreamType,
  StatusUpdateType,
  Uuid,
} from '../shared/protocol';
import { SerialSender } from '../shared/node/serialSender';
import { RebindGate } from './rebindGate';
import type { ServerSecurity } from './security/serverSecurity';
import { bindServerSocket, serverSocketOptions } from './serverSocket';
import type { Stats } from './stats';
import { systemTimeNow } from './time';

/** Log chunks wait in the send queue up to this many events; more are dropped (a `sequence` gap). */
const LOG_QUEUE_LIMIT = 10_000;
/** …and up to this many bytes of log data, so a flooding child cannot fill the memory. */
const LOG_QUEUE_BYTES = 8 * 1024 * 1024;
/** Status updates are dropped only beyond this (a `data.seq` gap tells subscribers to re-list). */
const STATUS_QUEUE_LIMIT = 50_000;
/** Larger log chunks are published as several events. */
const MAX_LOG_CHUNK = 64 * 1024;

/** Where events go: the server's PUB socket, or anything else with the same shape. */
export interface EventSink {
  /**
   * Publishes a status update with the next `data.seq`.
   * @param data extra fields merged into `data` (after `seq`)
   */
  status(
    agentId: Uuid,
    updateType: StatusUpdateType,
    status: AgentStatus | null,
    message: string | null,
    data?: Record<string, JsonValue>,
  ): void;
  /** Publishes output bytes of an agent with its next per-agent `sequence`. */
  log(agentId: Uuid, stream: LogStreamType, bytes: Uint8Array): void;
}

/**
 * The protocol encoder (`encodeMessage`): the event's msgpack bytes after `prefix`, in one array.
 * `prefix` is only read during the call.
 */
export type EventEncoder = (message: EventMessage, prefix: Uint8Array) => Uint8Array;

/** Where a frame's `<topic>\0` is written for the encoder; topics (`status.` + a UUID) fit. */
const topicBytes = Buffer.alloc(64);

interface Pending {
  readonly topic: string;
  readonly message: EventMessage;
}

/**
 * The PUB event socket. Events are single frames `<topic>\0<msgpack>`; topics are the agent
 * UUID (log_stream) and `status.<uuid>` (status_update, heartbeats with the nil UUID).
 * `data.seq` counts every status update of this server from 1; `sequence` counts each agent's
 * log_stream events from 1. Both are assigned when queued, so a dropped event is a gap.
 */
export class Publisher implements EventSink {
  private readonly writer: SerialSender<Pending>;
  private readonly gate: RebindGate;
  private seq = 0;
  private readonly logSeq = new Map<Uuid, number>();
  private closed = false;
  private queuedLogBytes = 0;
  private readonly onNotSent = (error: unknown): void => {
    if (!this.closed) process.stderr.write(`descartes-server: event not published: ${String(error)}\n`);
  };

  private constructor(
    private readonly socket: zmq.Publisher,
    /** The bound endpoint with its port resolved. */
    readonly endpoint: string,
    private readonly stats: Stats,
    encode: EventEncoder,
  ) {
    this.gate = new RebindGate(socket, endpoint);
    this.writer = new SerialSender<Pending>(this.gate, (p) => {
      if (p.message.type === 'log_stream') this.queuedLogBytes -= p.message.data.length;
      // The encoder writes `<topic>\0` and the message into one buffer: no frame to copy into.
      const scratch = p.topic.length < topicBytes.length ? topicBytes : Buffer.alloc(p.topic.length + 1);
      const end = scratch.write(p.topic, 0, 'latin1');
      scratch[end] = 0;
      return [encode(p.message, scratch.subarray(0, end + 1))];
    });
  }

  /**
   * Binds the PUB socket.
   * @param encode the protocol encoder (`encodeMessage`)
   * @param security the server's transport security: events reach only peers it admits
   * @throws BindError naming the endpoint
   */
  static async bind(
    endpoint: string,
    stats: Stats,
    encode: EventEncoder,
    security: ServerSecurity,
  ): Promise<Publisher> {
    const socket = new zmq.Publisher({ ...serverSocketOptions(security), sendHighWaterMark: 10_000 });
    const bound = await bindServerSocket(socket, endpoint, security, 'event socket');
    return new Publisher(socket, bound, stats, encode);
  }

  /** The last `data.seq` given out (0 before the first status update). */
  get lastSeq(): number {
    return this.seq;
  }

  status(
    agentId: Uuid,
    updateType: StatusUpdateType,
    status: AgentStatus | null,
    message: string | null,
    data: Record<string, JsonValue> = {},
  ): void {
    if (this.closed) return;
    this.seq++;
    // Under a flood the queue stays full: count the drop before building a message for nothing.
    if (this.writer.pending >= STATUS_QUEUE_LIMIT) {
      this.stats.increment('pub_dropped');
      return;
    }
    const refused = this.writer.post(
      {
        topic: `status.${agentId}`,
        message: {
          type: 'status_update',
          agent_id: agentId,
          update_type: updateType,
          status,
          message,
          data: { seq: this.seq, ...data },
          timestamp: systemTimeNow(),
        },
      },
      this.onNotSent,
      STATUS_QUEUE_LIMIT,
    );
    if (refused !== null) this.stats.increment('pub_dropped');
  }

  log(agentId: Uuid, stream: LogStreamType, bytes: Uint8Array): void {
    if (this.closed) return;
    for (let at = 0; at < bytes.length; at += MAX_LOG_CHUNK) {
      const sequence = (this.logSeq.get(agentId) ?? 0) + 1;
      this.logSeq.set(agentId, sequence);
      const data = bytes.subarray(at, Math.min(bytes.length, at + MAX_LOG_CHUNK));
      if (this.queuedLogBytes + data.length > LOG_QUEUE_BYTES || this.writer.pending >= LOG_QUEUE_LIMIT) {
        this.stats.increment('pub_dropped');
        continue;
      }
      const refused = this.writer.post(
        {
          topic: agentId,
          message: {
            type: 'log_stream',
            agent_id: agentId,
            stream_type: stream,
            data,
            timestamp: systemTimeNow(),
            sequence,
          },
        },
        this.onNotSent,
        LOG_QUEUE_LIMIT,
      );
      if (refused === null) this.queuedLogBytes += data.length;
      else this.stats.increment('pub_dropped');
    }
  }

  /**
   * Drops every subscriber's connection (see `CommandSocket.dropConnections`); subscribers
   * reconnect, subscribe again and see a `data.seq` gap for what they missed.
   */
  async dropConnections(): Promise<void> {
    if (this.closed) return;
    await this.gate.drop();
  }

  /**
   * Resolves once every event queued so far has been handed to the socket (or failed); libzmq
   * then delivers it, or drops it for a subscriber past its high-water mark. Never rejects.
   */
  sent(): Promise<void> {
    return this.writer.idle();
  }

  /** Forgets an agent's log sequence counter (when the agent is removed from memory). */
  forget(agentId: Uuid): void {
    this.logSeq.delete(agentId);
  }

  /** Sends what is queued (up to `timeoutMs`), then closes the socket. Idempotent. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.race([this.writer.idle(), new Promise((r) => setTimeout(r, timeoutMs))]);
    this.writer.close();
    this.socket.close();
  }
}
