import { outcomeFromReply, type QueuedCommand } from '../../../shared/domain/command';
import type { ReplyFor, ReplyMessage, RequestMessage } from '../../../shared/protocol';
import { ListenerSet } from '../listenerSet';
import type { ConnectionSnapshot, RequestOptions } from '../transport/connection';
import { RequestError } from '../transport/requestError';
import type { CommandQueue } from './commandQueue';
import { sendTranslated } from './legacyTranslation';
import type { SettleParticipant, SettleStep, SettleStepResult } from './settleBatcher';
import { DEFAULT_REPLY_TIMEOUT_MS } from '../../../shared/domain/replyTimeout';

/** What the dispatcher needs of a connection; `Connection` provides it. */
export interface DispatchConnection {
  snapshot(): ConnectionSnapshot;
  onChange(listener: (s: ConnectionSnapshot) => void): () => void;
  onLateReply(listener: (reply: ReplyMessage) => void): () => void;
  request<M extends RequestMessage>(msg: M, options?: RequestOptions): Promise<ReplyFor[M['type']]>;
}

export interface DispatcherOptions {
  /** The queue's id of the server this dispatcher sends to. */
  serverId: string;
  queue: CommandQueue;
  connection: DispatchConnection;
  /** Commands on the wire at once for this server. Default 16. */
  window?: number;
  /** Default reply timeout, ms. Default 30 000 (docs/PROTOCOL.md §5.2). */
  defaultTimeoutMs?: number;
  /** Sends of one command (the first included) before an unknown outcome is left to the operator. Default 3. */
  maxAttempts?: number;
  /**
   * Receives a queue failure met while sending or settling (a store that refuses writes); the
   * commands concerned stay `sending` and are recovered at the next reconnect or start.
   * Default console.error.
   */
  onError?: (error: unknown) => void;
}

/** A settled command together with the reply that settled it (null when it ended otherwise). */
export interface DispatchResult {
  command: QueuedCommand;
  reply: ReplyMessage | null;
}

/**
 * Sends one server's queued commands, FIFO, with a bounded in-flight window, whenever the
 * server is online; settles them with their replies.
 *
 * Unknown outcomes: a command whose reply does not come in time is `timed_out`. Against a
 * server that advertises `dedupe` it is resent with the same `request_id` (the server
 * answers a repeat from its cache) up to `maxAttempts` sends; a command cut off by a lost
 * connection is put back at its place and resent once the server is back. Against a server
 * without `dedupe` (Rust 1.0.0) nothing is resent: the outcome stays unknown for the operator.
 */
export class Dispatcher {
  readonly serverId: string;
  private readonly queue: CommandQueue;
  private readonly connection: DispatchConnection;
  private readonly window: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly onError: (error: unknown) => void;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners: ListenerSet<DispatchResult>;
  /** Commands this process has handed to the connection and not yet settled. */
  private readonly inFlight = new Set<string>();
  private wasOnline = false;
  private readonly replies: { id: string; reply: ReplyMessage }[] = [];
  /** Replies taken into a settle step not yet committed, by command id. */
  private settling = new Map<string, ReplyMessage>();
  private pumping = false;
  private again = false;
  private disposed = false;

  constructor(options: DispatcherOptions) {
    this.serverId = options.serverId;
    this.queue = options.queue;
    this.connection = options.connection;
    this.window = options.window ?? 16;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.onError =
      options.onError ??
      ((error) => {
        console.error(`dispatcher for ${options.serverId}: the queue failed`, error);
      });
    this.listeners = new ListenerSet<DispatchResult>((error) => {
      // Reported, not thrown: the other listeners and the rest of this pump still run.
      console.error(`dispatcher for ${options.serverId}: a result listener failed`, error);
    });
    this.unsubscribe.push(
      this.connection.onChange(() => {
        this.pump();
      }),
      this.queue.onChange((change) => {
        if (change.command.serverId === this.serverId && change.command.state === 'queued') this.pump();
      }),
      this.connection.onLateReply((reply) => {
        this.onLateReply(reply);
      }),
    );
    this.pump();
  }

  /**
   * Called with every command this dispatcher settled or timed out. A listener that throws is
   * reported (console.error) and changes nothing for the others. Returns an unsubscribe.
   */
  onResult(listener: (r: DispatchResult) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Looks for work now (also done on every queue or connection change). */
  pump(): void {
    if (this.disposed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      // A change raised while pumping (sendNext emits one) asks for one more round.
      do this.pumpOnce();
      while (this.takeAgain());
    } catch (error) {
      // Called from event handlers and reply continuations: report rather than throw there.
      this.again = false;
      this.onError(error);
    } finally {
      this.pumping = false;
    }
  }

  private takeAgain(): boolean {
    const again = this.again && !this.disposed;
    this.again = false;
    return again;
  }

  /** Stops sending; commands on the wire keep their state and are recovered at the next start. */
  dispose(): void {
    // Replies already received are settled, not thrown away with the dispatcher.
    try {
      this.flushReplies();
    } catch (error) {
      this.onError(error);
    }
    this.disposed = true;
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
  }

  private pumpOnce(): void {
    const snap = this.connection.snapshot();
    const online = snap.state === 'online';
    if (!online) {
      this.wasOnline = false;
      return;
    }
    const dedupe = snap.info?.capabilities.has('dedupe') ?? false;
    const epoch = dedupe ? snap.info?.metadata.dedupe_epoch : undefined;
    // Before anything is resent: a server that lost its reply cache would run a resend again.
    if (epoch !== undefined) {
      for (const c of this.queue.noteDedupeEpoch(this.serverId, epoch)) {
        if (c.state === 'timed_out') this.emit({ command: c, reply: null });
      }
    }
    if (!this.wasOnline) {
      // Back online (or first contact since start): commands sent before and never answered.
      this.wasOnline = true;
      const orphans = this.queue.sending(this.serverId).filter((c) => !this.inFlight.has(c.id));
      if (orphans.length > 0) {
        for (const c of this.queue.recoverAfterRestart(this.serverId, { dedupe })) {
          if (c.state === 'timed_out') this.emit({ command: c, reply: null });
        }
      }
      if (dedupe) this.resendUnknown();
    }
    // One transaction (one fsync) marks the whole window as sending before anything leaves.
    // Commands answered but not yet settled (their group commit is pending) still count as
    // `sending` in the queue, but are off the wire: they do not use up the window.
    const window = this.window + this.replies.length;
    // A dedupe server's marks are written behind (within the queue's syncLagMs, or never when
    // the reply comes first), so a slot freed by a reply is refilled at once, without a
    // transaction of its own.
    this.launch(this.queue.sendNext(this.serverId, window, dedupe ? 'writeBehind' : 'durable'), snap);
  }

  private launch(commands: readonly QueuedCommand[], snap: ConnectionSnapshot): void {
    for (const sending of commands) {
      this.inFlight.add(sending.id);
      void this.send(sending, snap);
    }
  }

  /** Resends timed-out commands of a dedupe server that still have attempts left and may be resent. */
  private resendUnknown(): void {
    for (const c of this.queue.list(this.serverId, ['timed_out'])) {
      if (c.attempts < this.maxAttempts && this.queue.mayResend(c)) this.queue.retry(c.id);
    }
  }

  private async send(command: QueuedCommand, snap: ConnectionSnapshot): Promise<void> {
    let reply: ReplyMessage;
    try {
      const legacy = snap.info?.legacy ?? false;
      reply = await sendTranslated(this.connection, command.request, legacy, this.defaultTimeoutMs);
    } catch (e) {
      this.inFlight.delete(command.id);
      // Disposed: the connection was closed under a command that may be on the wire. Leave it
      // `sending` (as dispose() promises) so the next owner resends it to a dedupe server or
      // reports its outcome unknown, rather than requeueing it as if it had never left.
      if (this.disposed) return;
      this.onSendError(command, e);
      this.pump();
      return;
    }
    this.settleSoon(command.id, reply, this.connection.snapshot());
  }

  /**
   * Replies are settled together (group commit), in the same transaction that marks the
   * commands taking their slots as sending, shared with every other dispatcher of the queue
   * (`CommandQueue.settles`): those of one turn, or against a dedupe server those of up to
   * `SETTLE_GAP_MS` during a drain. A settle is committed before its result is announced.
   * Against a dedupe server the freed slot is refilled at once (its mark is written behind);
   * otherwise the command keeps its slot until its settle is on disk.
   */
  private settleSoon(id: string, reply: ReplyMessage, snap: ConnectionSnapshot): void {
    this.replies.push({ id, reply });
    const dedupe = snap.info?.capabilities.has('dedupe') === true;
    if (dedupe) this.pump();
    // Only a dedupe server's settle may wait for the next spaced flush: its slot is already
    // refilled. Any other command keeps its slot until its settle is on disk.
    this.queue.settles.schedule(this.participant, dedupe);
  }

  /** This dispatcher's part in the queue's shared settle transaction. */
  private readonly participant: SettleParticipant = {
    take: () => (this.disposed ? null : this.takeStep(true)),
    done: (result) => {
      this.finishStep(result);
      this.pump();
    },
    failed: (error) => {
      // Nothing of the step was written: its commands stay `sending`, recovered at the next
      // reconnect or start.
      this.settling.clear();
      this.onError(error);
      this.pump();
    },
  };

  /**
   * Settles the replies received so far, at once and without refilling (the dispatcher is being
   * disposed). Against a dedupe server that transaction does not wait for the disk: losing it in
   * a power cut means a resend with the same request_id, answered from the server's cache (the
   * queue syncs within its `syncLagMs`).
   */
  private flushReplies(): void {
    const step = this.takeStep(false);
    if (step === null) return;
    this.finishStep(this.queue.settleAndSendNext(step.serverId, step.items, step.window, step));
  }

  /** The replies received so far as one step (null when none); they are no longer in flight. */
  private takeStep(refill: boolean): SettleStep | null {
    const batch = this.replies.splice(0);
    if (batch.length === 0) return null;
    for (const r of batch) {
      this.inFlight.delete(r.id);
      this.settling.set(r.id, r.reply);
    }
    const snap = this.connection.snapshot();
    // Refill only once the reconnect recovery in pumpOnce has run for this connection.
    const sendNow = refill && snap.state === 'online' && this.wasOnline;
    return {
      serverId: this.serverId,
      items: batch.map((r) => ({ id: r.id, outcome: outcomeFromReply(r.reply) })),
      window: sendNow ? this.window : 0,
      durable: !(snap.info?.capabilities.has('dedupe') ?? false),
    };
  }

  /** Sends what the committed step marked and announces what it settled, with their replies. */
  private finishStep(result: SettleStepResult): void {
    const replies = this.settling;
    this.settling = new Map();
    this.launch(result.sending, this.connection.snapshot());
    for (const command of result.settled) this.emit({ command, reply: replies.get(command.id) ?? null });
  }

  private onSendError(command: QueuedCommand, e: unknown): void {
    const current = this.queue.get(command.id);
    if (current?.state !== 'sending') return;
    const err =
      e instanceof RequestError
        ? e
        : new RequestError('protocol', e instanceof Error ? e.message : String(e), true);
    if (err.code === 'connection_lost') {
      // Left in `sending`: recovered (resent or marked unknown) once the server is back.
      return;
    }
    if (!err.outcomeUnknown) {
      if (err.code === 'offline' || err.code === 'closed' || err.code === 'backpressure') {
        // Never left this process: back to its place in the FIFO.
        this.queue.requeueUnsent(command.id);
        return;
      }
      const settled = this.queue.settle(command.id, { kind: 'send_error', message: err.message });
      this.emit({ command: settled, reply: null });
      return;
    }
    // Already timed out when its server's dedupe epoch changed under it: nothing more to do.
    if (this.queue.get(command.id)?.state !== 'sending') return;
    const timedOut = this.queue.markTimedOut(command.id, err.message);
    this.emit({ command: timedOut, reply: null });
    const dedupe = this.connection.snapshot().info?.capabilities.has('dedupe') ?? false;
    if (
      dedupe &&
      timedOut.attempts < this.maxAttempts &&
      this.queue.mayResend(timedOut) &&
      this.connection.snapshot().state === 'online'
    ) {
      this.queue.retry(timedOut.id);
    }
  }

  private onLateReply(reply: ReplyMessage): void {
    const c = this.queue.get(reply.request_id);
    if (c?.serverId !== this.serverId || c.state !== 'timed_out') return;
    const settled = this.queue.settle(c.id, outcomeFromReply(reply));
    this.emit({ command: settled, reply });
  }

  private emit(r: DispatchResult): void {
    this.listeners.emit(r);
  }
}
