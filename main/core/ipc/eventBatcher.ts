import type { QueuedCommand } from '../../../shared/domain/command';
import type { ServerStatus } from '../../../shared/domain/server';
import type { ConsoleEventEnvelope, ConsoleEvents, LogChunkView } from '../../../shared/ipc';
import type { StatusUpdate } from '../../../shared/protocol';

export interface EventBatcherOptions {
  /** Shortest time between two flushes, ms; default 50 (≤ 20 batches per second). */
  intervalMs?: number;
  /** Status updates kept per server between two flushes; older ones are dropped with a `resync`. Default 5000. */
  maxStatusUpdates?: number;
  /** Log text (UTF-16 code units) kept per tail between two flushes; default 4 Mi. */
  maxLogChars?: number;
  /** Notifications kept between two flushes (oldest dropped); default 100. */
  maxNotifications?: number;
  /**
   * A tail lost chunks because the client did not keep up: the owner should backfill it.
   * `lostFrom` is the sequence of the first chunk dropped.
   */
  onLogOverflow?: (subscriptionId: string, lostFrom: number) => void;
}

/**
 * Collects one client's events and delivers them in batches, at most one per `intervalMs`,
 * with bounded memory: servers and queue entries keep only their newest version, status
 * updates and log text are capped (oldest dropped, with a `resync` / overflow notice).
 *
 * Order inside a batch: servers, queue, resync, status, backfill, logs, notification. A
 * backfill replaces the log chunks of its tail that were waiting (they are older than it).
 */
export class EventBatcher {
  private readonly intervalMs: number;
  private readonly maxStatus: number;
  private readonly maxLogChars: number;
  private readonly maxNotifications: number;
  private servers = new Map<string, ServerStatus>();
  private queue = new Map<string, QueuedCommand>();
  private resync = new Map<string, string>();
  private status = new Map<string, StatusUpdate[]>();
  private backfill = new Map<string, ConsoleEvents['backfill']>();
  private logs = new Map<string, { chunks: LogChunkView[]; chars: number }>();
  private notifications: ConsoleEvents['notification'][] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private disposed = false;

  constructor(
    private readonly deliver: (envelopes: ConsoleEventEnvelope[]) => void,
    private readonly options: EventBatcherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 50;
    this.maxStatus = options.maxStatusUpdates ?? 5000;
    this.maxLogChars = options.maxLogChars ?? 4 * 1024 * 1024;
    this.maxNotifications = options.maxNotifications ?? 100;
  }

  /** Queues one event for the next batch. Ignored after {@link dispose}. */
  add(envelope: ConsoleEventEnvelope): void {
    if (this.disposed) return;
    switch (envelope.name) {
      case 'servers':
        for (const s of envelope.payload) this.servers.set(s.serverId, s);
        break;
      case 'queue':
        for (const c of envelope.payload) this.queue.set(c.id, c);
        break;
      case 'resync':
        this.resync.set(envelope.payload.serverId, envelope.payload.reason);
        break;
      case 'status':
        this.addStatus(envelope.payload.serverId, envelope.payload.updates);
        break;
      case 'backfill':
        this.backfill.set(envelope.payload.subscriptionId, envelope.payload);
        this.logs.delete(envelope.payload.subscriptionId);
        break;
      case 'logs':
        this.addLogs(envelope.payload.subscriptionId, envelope.payload.chunks);
        break;
      case 'notification':
        this.notifications.push(envelope.payload);
        if (this.notifications.length > this.maxNotifications) this.notifications.shift();
        break;
      default: {
        const never: never = envelope;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
    this.schedule();
  }

  /** Drops pending events of one tail (its subscription ended). */
  forgetTail(subscriptionId: string): void {
    this.logs.delete(subscriptionId);
    this.backfill.delete(subscriptionId);
  }

  /** Delivers everything pending now (no-op when nothing is). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch: ConsoleEventEnvelope[] = [];
    if (this.servers.size > 0) batch.push({ name: 'servers', payload: [...this.servers.values()] });
    if (this.queue.size > 0) batch.push({ name: 'queue', payload: [...this.queue.values()] });
    for (const [serverId, reason] of this.resync)
      batch.push({ name: 'resync', payload: { serverId, reason } });
    for (const [serverId, updates] of this.status)
      batch.push({ name: 'status', payload: { serverId, updates } });
    for (const payload of this.backfill.values()) batch.push({ name: 'backfill', payload });
    for (const [subscriptionId, { chunks }] of this.logs) {
      batch.push({ name: 'logs', payload: { subscriptionId, chunks } });
    }
    for (const n of this.notifications) batch.push({ name: 'notification', payload: n });
    this.servers = new Map();
    this.queue = new Map();
    this.resync = new Map();
    this.status = new Map();
    this.backfill = new Map();
    this.logs = new Map();
    this.notifications = [];
    this.lastFlush = Date.now();
    if (batch.length > 0) this.deliver(batch);
  }

  /** Stops the timer and drops what is pending. Idempotent. */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.flush();
    }, wait);
  }

  private addStatus(serverId: string, updates: readonly StatusUpdate[]): void {
    let list = this.status.get(serverId);
    if (list === undefined) {
      list = [];
      this.status.set(serverId, list);
    }
    list.push(...updates);
    const excess = list.length - this.maxStatus;
    if (excess > 0) {
      list.splice(0, excess);
      this.resync.set(
        serverId,
        `the console dropped ${excess} status update(s) to keep up; agents are re-listed`,
      );
    }
  }

  private addLogs(subscriptionId: string, chunks: readonly LogChunkView[]): void {
    let entry = this.logs.get(subscriptionId);
    if (entry === undefined) {
      entry = { chunks: [], chars: 0 };
      this.logs.set(subscriptionId, entry);
    }
    for (const c of chunks) {
      entry.chunks.push(c);
      entry.chars += c.text.length;
    }
    if (entry.chars > this.maxLogChars) {
      // The view is behind anyway: drop what waits and let the owner replace it with a backfill.
      const lostFrom = entry.chunks[0]?.sequence ?? 0;
      this.logs.delete(subscriptionId);
      this.options.onLogOverflow?.(subscriptionId, lostFrom);
    }
  }
}
