/**
 * The in-memory mirror of every pending (queued or sending) command, per server
 * (docs/ARCHITECTURE.md §3). `CommandQueue` updates it after each committed write, so the
 * limit, the window, FIFO order and expiry cost no database round trip. It is authoritative
 * only because one process owns the data directory (the store's owner lock).
 */
import type { QueuedCommand } from '../../../shared/domain/command';
import { Fifo } from '../../../shared/collections/fifo';

/** The pending commands of one server, in issue order. */
interface Lane {
  /** Sorted by `seq`; the head is the next to send. */
  readonly queued: Fifo<QueuedCommand>;
  readonly sending: Map<string, QueuedCommand>;
  /**
   * A lower bound of the earliest `expiresAt` among queued commands, or null when none has
   * one: lets `dueToExpire` skip scanning a long queue when nothing can be due, which kept a
   * 10,000-command drain quadratic.
   */
  nextExpiry: number | null;
}

export class PendingIndex {
  private readonly lanes = new Map<string, Lane>();
  /** Every queued or sending command by id (the same objects as in the lanes). */
  private readonly byId = new Map<string, QueuedCommand>();

  /** Adds a command read from the store (queued at the tail of its lane, or sending). */
  add(command: QueuedCommand): void {
    const lane = this.lane(command.serverId);
    if (command.state === 'sending') lane.sending.set(command.id, command);
    else {
      lane.queued.push(command);
      noteExpiry(lane, command);
    }
    this.byId.set(command.id, command);
  }

  /** The pending command with this id, or null (settled or unknown). */
  get(id: string): QueuedCommand | null {
    return this.byId.get(id) ?? null;
  }

  /** Pending commands across all servers. */
  get size(): number {
    return this.byId.size;
  }

  /** Queued + sending commands of `serverId`. */
  count(serverId: string): number {
    const lane = this.lanes.get(serverId);
    return lane === undefined ? 0 : lane.queued.length + lane.sending.size;
  }

  /** Servers with at least one pending command. */
  servers(): string[] {
    return [...this.lanes.keys()].filter((serverId) => this.count(serverId) > 0);
  }

  /** Servers that have (or had) a lane: those an expiry sweep must look at. */
  laneIds(): string[] {
    return [...this.lanes.keys()];
  }

  /** The oldest queued commands of `serverId` that fit in `window` beside those sending. */
  nextToSend(serverId: string, window: number): QueuedCommand[] {
    const lane = this.lanes.get(serverId);
    if (lane === undefined) return [];
    const free = window - lane.sending.size;
    return free > 0 ? lane.queued.peek(free) : [];
  }

  /** The queued command `index` places behind the head (clamped to the last one), or undefined. */
  queuedAtOrLast(serverId: string, index: number): QueuedCommand | undefined {
    const queued = this.lanes.get(serverId)?.queued;
    return queued?.at(Math.min(queued.length - 1, index));
  }

  /** The sending commands of `serverId`, oldest first. */
  sending(serverId: string): QueuedCommand[] {
    const lane = this.lanes.get(serverId);
    return lane === undefined ? [] : [...lane.sending.values()].sort((a, b) => a.seq - b.seq);
  }

  /**
   * The queued commands of `serverId` whose expiry is at or before `now` (ms since the epoch).
   * Cheap when none can be due. The bound is lowered as commands come and recomputed only when
   * a scan finds nothing due (the scan after an expiry), so if expiring the returned commands
   * fails, they are found again next time.
   */
  dueToExpire(serverId: string, now: number): QueuedCommand[] {
    const lane = this.lanes.get(serverId);
    if (lane === undefined || lane.nextExpiry === null || lane.nextExpiry > now) return [];
    const due = [...lane.queued].filter((c) => c.expiresAt !== null && c.expiresAt <= now);
    if (due.length === 0) recomputeExpiry(lane);
    return due;
  }

  /** The earliest expiry bound over all servers (ms since the epoch), or null when none. */
  earliestExpiry(): number | null {
    let earliest: number | null = null;
    for (const lane of this.lanes.values()) {
      if (lane.nextExpiry !== null && (earliest === null || lane.nextExpiry < earliest)) {
        earliest = lane.nextExpiry;
      }
    }
    return earliest;
  }

  /**
   * Mirrors committed changes: each `befores[i]` became `afters[i]`. A window taken from the
   * head of a long queue costs no search.
   */
  apply(befores: readonly QueuedCommand[], afters: readonly QueuedCommand[]): void {
    this.removeFromQueued(befores);
    afters.forEach((after, i) => {
      const before = befores[i];
      if (before !== undefined) this.move(before, after);
    });
  }

  /** Forgets pending commands whose rows were not stored after all (a lost batch). */
  remove(commands: readonly QueuedCommand[]): void {
    this.removeFromQueued(commands);
    for (const c of commands) {
      this.lanes.get(c.serverId)?.sending.delete(c.id);
      this.byId.delete(c.id);
    }
  }

  /** Forgets everything (the queue closed). */
  clear(): void {
    this.lanes.clear();
    this.byId.clear();
  }

  private lane(serverId: string): Lane {
    let lane = this.lanes.get(serverId);
    if (lane === undefined) {
      lane = { queued: new Fifo(), sending: new Map(), nextExpiry: null };
      this.lanes.set(serverId, lane);
    }
    return lane;
  }

  /** Takes commands that were `queued` out of their lanes' queued lists. */
  private removeFromQueued(befores: readonly QueuedCommand[]): void {
    const byLane = new Map<string, Set<string>>();
    for (const c of befores) {
      if (c.state !== 'queued') continue;
      let ids = byLane.get(c.serverId);
      if (ids === undefined) byLane.set(c.serverId, (ids = new Set()));
      ids.add(c.id);
    }
    for (const [serverId, ids] of byLane) {
      const queued = this.lane(serverId).queued;
      let head = 0;
      while (head < queued.length && ids.has((queued.at(head) as QueuedCommand).id)) head++;
      if (head === ids.size) queued.dropHead(head);
      else queued.retain((c) => !ids.has(c.id));
    }
  }

  /** Moves one command (already out of the queued list) to where its new state belongs. */
  private move(before: QueuedCommand, after: QueuedCommand): void {
    const lane = this.lane(after.serverId);
    if (before.state === 'sending') lane.sending.delete(before.id);
    this.byId.delete(before.id);
    if (after.state === 'queued' || after.state === 'sending') this.byId.set(after.id, after);
    if (after.state === 'sending') lane.sending.set(after.id, after);
    if (after.state === 'queued') {
      // Recovered commands keep their original seq; retried ones carry the newest seq.
      lane.queued.insertFromTail(after, (existing) => existing.seq > after.seq);
      noteExpiry(lane, after);
    }
  }
}

function noteExpiry(lane: Lane, command: QueuedCommand): void {
  if (command.expiresAt === null) return;
  lane.nextExpiry =
    lane.nextExpiry === null ? command.expiresAt : Math.min(lane.nextExpiry, command.expiresAt);
}

function recomputeExpiry(lane: Lane): void {
  lane.nextExpiry = null;
  for (const c of lane.queued) noteExpiry(lane, c);
}
