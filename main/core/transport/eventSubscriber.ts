import * as zmq from 'zeromq';
import { retryInterrupted } from '../../../shared/node/retryInterrupted';
import { decodeMessage, type LogStream, type StatusUpdate } from '../../../shared/protocol';
import type { HandshakeProblem } from '../../../shared/domain/server';
import { ListenerSet, notifyEach } from '../listenerSet';
import { backoffDelay } from './backoff';
import { clientSocketOptions, type CurveClient } from './curveClient';
import { watchSocketEvents, type SocketSignal } from './socketEvents';

/** Topic prefix of every status update; heartbeats use the nil UUID after it. */
export const STATUS_TOPIC = 'status.';

/** A status-stream discontinuity: updates were lost (PUB drops under load) or the server restarted. */
export interface StatusGap {
  /** The seq we expected next, or null after a restart was detected. */
  expected: number | null;
  received: number;
  reason: 'gap' | 'restart';
}

/** A log discontinuity for one agent: chunks `expected … received-1` were never seen. */
export interface LogGap {
  agentId: string;
  expected: number;
  received: number;
}

export interface LogTailListener {
  onChunk: (chunk: LogStream) => void;
  onGap?: (gap: LogGap) => void;
}

export interface EventSubscriberOptions {
  /** CurveZMQ with the server's pinned key and our key pair; null or absent: plain ZMTP. */
  curve?: CurveClient | null;
  /** First delay before a new socket after a refused handshake, ms (doubles, with jitter). Default 1000. */
  retryInitialMs?: number;
  /** Cap of that delay, ms. Default 30 000. */
  retryMaxMs?: number;
}

/**
 * Largest event accepted, bytes. Our server publishes log chunks of at most 64 KiB and small
 * status updates; a larger frame makes libzmq drop the connection (the subscriber then replaces
 * the socket, see onSocketSignal), so a hostile server cannot make the console hold frames of up
 * to 10 MiB (a flood of 8 MiB status updates grew a console past 4 GiB and stalled its event
 * loop).
 */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Events libzmq holds for the console before it stops reading the server's socket (the server
 * then drops what it cannot send). With {@link MAX_EVENT_BYTES} this bounds what one server can
 * make the console hold to 64 MiB. Drops are gaps the console already detects and repairs
 * (status: re-list; logs: refill from the server's store).
 */
export const EVENT_QUEUE_LIMIT = 256;

/** How long after a disconnect without libzmq's reconnect the socket is replaced, ms. */
const DROPPED_AFTER_MS = 1000;

/**
 * One SUB socket per server. Decodes `<topic>\0<msgpack>` frames, hands status updates to
 * listeners, detects gaps in `data.seq` (so the owner re-lists agents) and in each agent's
 * log `sequence` (so the owner backfills through an output query). Agent log topics are
 * subscribed only while someone tails them.
 *
 * With `curve` the socket speaks CurveZMQ, like the command connection. libzmq abandons a SUB
 * whose handshake was refused, so after a refusal the subscriber opens a new socket with
 * backoff (the operator may allow our key meanwhile) and reports the problem. It also opens a
 * new socket, with the same backoff, when libzmq ends a connection for good on a protocol error
 * (an event over {@link MAX_EVENT_BYTES}). Callers must {@link close} it.
 */
export class EventSubscriber {
  private socket: zmq.Subscriber | null = null;
  private endpoint: string | null = null;
  private lastSeq: number | null = null;
  private readonly lastLogSeq = new Map<string, number>();
  // Listeners run inside the receive loop (and the socket's event callbacks): one that throws
  // is reported and must not keep the others, or the next listener kind, from hearing.
  private readonly reportListenerError = (error: unknown): void => {
    console.error('event subscriber: a listener failed', error);
  };
  private readonly statusListeners = new ListenerSet<StatusUpdate>(this.reportListenerError);
  private readonly gapListeners = new ListenerSet<StatusGap>(this.reportListenerError);
  private readonly tails = new Map<string, Set<LogTailListener>>();
  private closed = false;
  private readonly curve: CurveClient | null;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private problem: HandshakeProblem | null = null;
  private retryAttempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Armed by a disconnect; cleared when libzmq reconnects (see onSocketSignal). */
  private dropTimer: NodeJS.Timeout | null = null;
  private readonly problemListeners = new ListenerSet<HandshakeProblem | null>(this.reportListenerError);
  /** Frames that did not decode: counted so the UI can say the stream is damaged. */
  decodeErrors = 0;

  constructor(options: EventSubscriberOptions = {}) {
    this.curve = options.curve ?? null;
    this.retryInitialMs = options.retryInitialMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
  }

  /**
   * (Re)connects to `endpoint`, e.g. when the server advertised it or moved. Subscriptions
   * carry over. A null endpoint disconnects. Idempotent for the same endpoint.
   * @throws Error when the endpoint is malformed
   */
  connect(endpoint: string | null): void {
    if (this.closed || endpoint === this.endpoint) return;
    this.endpoint = endpoint;
    this.retryAttempt = 0;
    this.setProblem(null);
    this.open();
  }

  /** Why the last handshake on the event socket was refused, or null. */
  get handshakeProblem(): HandshakeProblem | null {
    return this.problem;
  }

  /** Calls `listener` whenever {@link handshakeProblem} changes. Returns an unsubscribe. */
  onHandshakeProblem(listener: (problem: HandshakeProblem | null) => void): () => void {
    return this.problemListeners.add(listener);
  }

  /**
   * (Re)opens the socket to `this.endpoint`, dropping the current one and any pending retry.
   * @param keepSequences keep the last status and log sequences seen (the same server, after
   *   libzmq gave up a connection), so what was lost meanwhile shows as a gap
   */
  private open(keepSequences = false): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.clearDropTimer();
    this.socket?.close();
    this.socket = null;
    if (!keepSequences) {
      this.lastSeq = null;
      this.lastLogSeq.clear();
    }
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    const socket = new zmq.Subscriber({
      ...clientSocketOptions(this.curve, 5000),
      maxMessageSize: MAX_EVENT_BYTES,
      receiveHighWaterMark: EVENT_QUEUE_LIMIT,
    });
    watchSocketEvents(socket, this.curve !== null, (signal) => {
      this.onSocketSignal(socket, signal);
    });
    try {
      retryInterrupted(() => {
        socket.connect(endpoint);
      });
    } catch (error) {
      // An endpoint libzmq refuses (the server advertised it): no events, but no exception
      // into whoever asked either; the next connect() with a usable endpoint starts over.
      socket.close();
      console.error(`event subscriber: cannot connect to ${endpoint}`, error);
      return;
    }
    socket.subscribe(STATUS_TOPIC);
    for (const agentId of this.tails.keys()) socket.subscribe(agentId);
    this.socket = socket;
    void this.receiveLoop(socket);
  }

  /** The endpoint subscribed to, or null. */
  get connectedTo(): string | null {
    return this.endpoint;
  }

  /** Every status update, heartbeats included. Returns an unsubscribe. */
  onStatus(listener: (u: StatusUpdate) => void): () => void {
    return this.statusListeners.add(listener);
  }

  /** Gaps in the status stream; the listener should re-list agents. Returns an unsubscribe. */
  onStatusGap(listener: (g: StatusGap) => void): () => void {
    return this.gapListeners.add(listener);
  }

  /** Starts receiving one agent's log chunks. Returns an unsubscribe that drops the topic when unused. */
  tail(agentId: string, listener: LogTailListener): () => void {
    let set = this.tails.get(agentId);
    if (!set) {
      set = new Set();
      this.tails.set(agentId, set);
      this.socket?.subscribe(agentId);
    }
    set.add(listener);
    return () => {
      const s = this.tails.get(agentId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.tails.delete(agentId);
        this.lastLogSeq.delete(agentId);
        this.socket?.unsubscribe(agentId);
      }
    };
  }

  /** Closes the socket and drops every listener. */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.clearDropTimer();
    this.problemListeners.clear();
    this.socket?.close();
    this.socket = null;
    this.statusListeners.clear();
    this.gapListeners.clear();
    this.tails.clear();
  }

  private clearDropTimer(): void {
    if (this.dropTimer !== null) clearTimeout(this.dropTimer);
    this.dropTimer = null;
  }

  private onSocketSignal(socket: zmq.Subscriber, signal: SocketSignal): void {
    if (socket !== this.socket) return;
    if (signal.kind === 'disconnected') {
      // libzmq says `retrying` at once when it reconnects; silence means it gave the connection
      // up (a protocol error, e.g. an event over MAX_EVENT_BYTES) and no event would come again.
      this.clearDropTimer();
      this.dropTimer = setTimeout(() => {
        this.dropTimer = null;
        if (this.closed || this.socket !== socket) return;
        // With backoff: a peer that ends every connection this way must not get one a second.
        socket.close();
        this.socket = null;
        this.scheduleReopen(true);
      }, DROPPED_AFTER_MS);
      this.dropTimer.unref();
      return;
    }
    if (signal.kind === 'retrying' || signal.kind === 'connected') {
      this.clearDropTimer();
      return;
    }
    if (signal.kind === 'handshaken') {
      this.clearDropTimer();
      this.retryAttempt = 0;
      this.setProblem(null);
      return;
    }
    if (signal.problem === null) return;
    this.clearDropTimer();
    this.setProblem(signal.problem);
    // libzmq will not retry this socket: a new one, later.
    this.socket.close();
    this.socket = null;
    this.scheduleReopen(false);
  }

  /** A new socket after a backoff delay (doubling from retryInitialMs, with jitter). */
  private scheduleReopen(keepSequences: boolean): void {
    const wait = backoffDelay(this.retryAttempt++, this.retryInitialMs, this.retryMaxMs, Math.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed && this.socket === null) this.open(keepSequences);
    }, wait);
    this.retryTimer.unref();
  }

  private setProblem(problem: HandshakeProblem | null): void {
    if (this.problem === problem) return;
    this.problem = problem;
    this.problemListeners.emit(problem);
  }

  private async receiveLoop(socket: zmq.Subscriber): Promise<void> {
    try {
      for await (const [frame] of socket) {
        if (socket !== this.socket) break;
        if (!frame) continue;
        // A listener that throws must not end the loop: later events would be lost silently.
        try {
          this.onFrame(frame);
        } catch (e) {
          console.error('event subscriber: handling an event failed', e);
        }
      }
    } catch {
      // Closing the socket ends the iterator; nothing else ends it.
    }
  }

  private onFrame(frame: Buffer): void {
    const zero = frame.indexOf(0);
    if (zero < 0) {
      this.decodeErrors++;
      return;
    }
    let msg;
    try {
      msg = decodeMessage(frame.subarray(zero + 1));
    } catch {
      this.decodeErrors++;
      return;
    }
    if (msg.type === 'status_update') this.onStatusUpdate(msg);
    else if (msg.type === 'log_stream') this.onLog(msg);
  }

  private onStatusUpdate(u: StatusUpdate): void {
    const seq = seqOf(u);
    if (seq !== null) {
      const last = this.lastSeq;
      this.lastSeq = seq;
      if (last !== null && seq !== last + 1) {
        const gap: StatusGap =
          seq <= last
            ? { expected: null, received: seq, reason: 'restart' }
            : { expected: last + 1, received: seq, reason: 'gap' };
        this.gapListeners.emit(gap);
      }
    }
    this.statusListeners.emit(u);
  }

  private onLog(chunk: LogStream): void {
    const listeners = this.tails.get(chunk.agent_id);
    if (!listeners) return;
    const seq = Number(chunk.sequence);
    const last = this.lastLogSeq.get(chunk.agent_id);
    this.lastLogSeq.set(chunk.agent_id, seq);
    if (last !== undefined && seq > last + 1) {
      const gap: LogGap = { agentId: chunk.agent_id, expected: last + 1, received: seq };
      notifyEach(listeners, (l) => l.onGap?.(gap), this.reportListenerError);
    }
    notifyEach(
      listeners,
      (l) => {
        l.onChunk(chunk);
      },
      this.reportListenerError,
    );
  }
}

/** `data.seq` of a status update, when the server sends one (ours does; Rust servers do not publish). */
function seqOf(u: StatusUpdate): number | null {
  const data = u.data;
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) return null;
  const seq = (data as Record<string, unknown>).seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : null;
}
