import { randomUUID } from 'node:crypto';
import { retryInterrupted } from '../../../shared/node/retryInterrupted';
import * as zmq from 'zeromq';
import {
  decodeMessage,
  encodeMessageOnce,
  ProtocolError,
  isRequestType,
  REPLY_TYPE,
  type HealthCheckResponse,
  type ReplyFor,
  type ReplyMessage,
  type RequestMessage,
  type ZmqMessage,
} from '../../../shared/protocol';
import type { HandshakeProblem } from '../../../shared/domain/server';
import { SenderRefusedError, SerialSender } from '../../../shared/node/serialSender';
import { ListenerSet } from '../listenerSet';
import { backoffDelay } from './backoff';
import { clientSocketOptions, type CurveClient } from './curveClient';
import { handshakeProblemText } from './handshakeProblemText';
import { RequestError } from './requestError';
import { serverInfoFromHealth, type ServerInfo } from './serverInfo';
import { watchSocketEvents, type SocketSignal } from './socketEvents';
import { DEFAULT_REPLY_TIMEOUT_MS } from '../../../shared/domain/replyTimeout';

/**
 * `connecting`: the first socket exists and the server has never answered yet. `online`: the
 * last health check was answered. `degraded`: at least one health check in a row went
 * unanswered. `offline`: the server is unreachable (too many checks missed, a refused
 * handshake, or the host saw its process end): a reconnect is scheduled or under way
 * (`retrying`), and the state stays `offline` until the server answers again, so the UI never
 * flips between offline and connecting (docs/ARCHITECTURE.md §4.1). `closed`:
 * {@link Connection.close} ran.
 */
export type ConnectionState = 'connecting' | 'online' | 'degraded' | 'offline' | 'closed';

export interface ConnectionOptions {
  /** Command endpoint, e.g. `tcp://127.0.0.1:5555`. */
  endpoint: string;
  /** Health check period and the timeout of each health check, ms. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Default reply timeout of a request, ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Unanswered health checks in a row after which the server is offline. Default 3. */
  missesUntilOffline?: number;
  /** First reconnect delay after going offline, ms (doubles, with jitter). Default 500. */
  reconnectInitialMs?: number;
  /** Reconnect delay cap, ms. Default 30 000. */
  reconnectMaxMs?: number;
  /** Requests waiting for a reply at once; more are refused with `backpressure`. Default 100 000. */
  maxInFlight?: number;
  /** Source of jitter in [0, 1); tests make it deterministic. */
  random?: () => number;
  /** CurveZMQ with a pinned server key and our key pair; null or absent: plain ZMTP. */
  curve?: CurveClient | null;
}

/** A point-in-time view of a connection, safe to hand to the UI. */
export interface ConnectionSnapshot {
  endpoint: string;
  state: ConnectionState;
  /** When any valid reply last arrived (ms since epoch), or null if never. */
  lastHeardAt: number | null;
  /** From the last health reply; null until one arrives. */
  info: ServerInfo | null;
  /** Why the connection is not online, for the operator. */
  lastError: string | null;
  /** Reconnect attempts since the server was last online. */
  reconnectAttempt: number;
  /** When the next reconnect happens (ms since epoch), while offline and not yet retrying. */
  nextAttemptAt: number | null;
  /** Offline, and a reconnect attempt is under way now (a new socket waits for its health reply). */
  retrying: boolean;
  /**
   * Why the last handshake failed, since the server last completed one (or answered); null
   * when none failed. `lastError` then says it in words, with what to do.
   */
  handshakeProblem: HandshakeProblem | null;
}

export interface RequestOptions {
  /** Reply timeout, ms. Defaults to the connection's `requestTimeoutMs`. */
  timeoutMs?: number;
}

interface Pending {
  readonly type: RequestMessage['type'];
  readonly expect: ReplyMessage['type'];
  readonly resolve: (reply: ReplyMessage) => void;
  readonly reject: (err: RequestError) => void;
  readonly timeoutMs: number;
  /** `performance.now()` at which the request times out, ms. */
  readonly deadline: number;
  /** A health check's own timeout timer (see `request`); null for requests the sweep times out. */
  timer: NodeJS.Timeout | null;
}

/** setTimeout's largest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

const EMPTY = new Uint8Array(0);
/** Requests waiting for the socket beyond this many are refused as backpressure: the peer is not reading. */
const MAX_QUEUED_SENDS = 100_000;

/** A request on its way to the socket: its id (to fail it) and its encoded bytes. */
interface Outgoing {
  readonly id: string;
  readonly bytes: Uint8Array;
}
/** How many timed-out request ids are remembered to recognise their late replies. */
const LATE_MEMORY = 10_000;

/**
 * One DEALER to one agent server: request/reply matched by `request_id`, per-request
 * timeouts, liveness by health checks, reconnect with capped exponential backoff and jitter.
 *
 * It never enables ZMTP heartbeats (Rust peers crash on PING) and sends every request as
 * `[empty, msgpack]`, which both our ROUTER server and the Rust REP server accept.
 *
 * With {@link ConnectionOptions.curve} it speaks CurveZMQ. A refused handshake (our key not
 * allowed, the wrong pinned key, a plain server, or plain us against an encrypted server) is
 * read from the socket's monitor events, reported as `handshakeProblem` with a `lastError`
 * that says what to do, and takes the server offline at once: libzmq gives up on a socket
 * whose handshake was refused, so only a new socket (after the usual backoff) can succeed,
 * e.g. once the operator has allowed our key.
 * Callers must {@link close} it.
 */
export class Connection {
  readonly endpoint: string;
  private readonly heartbeatMs: number;
  private readonly requestTimeoutMs: number;
  private readonly missesUntilOffline: number;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private readonly maxInFlight: number;
  private readonly random: () => number;
  private readonly curve: CurveClient | null;

  private socket: zmq.Dealer | null = null;
  private writer: SerialSender<Outgoing> | null = null;
  private readonly pending = new Map<string, Pending>();
  /**
   * One timer for every request's timeout, due at the earliest deadline of those waiting
   * (`sweepAt`). A Node timer per request cost about a tenth of the CPU per reply with a
   * thousand requests in flight.
   */
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweepAt = Infinity;
  private readonly timedOut = new Set<string>();
  private state: ConnectionState = 'connecting';
  private lastHeardAt: number | null = null;
  private info: ServerInfo | null = null;
  private lastError: string | null = null;
  private handshakeProblem: HandshakeProblem | null = null;
  private misses = 0;
  private healthInFlight = false;
  private attempt = 0;
  private nextAttemptAt: number | null = null;
  /** Offline with a reconnect attempt under way: a socket is open and its health check may go out. */
  private retrying = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private started = false;
  // Listeners run inside the receive loop: one that throws is reported and must not keep the
  // others from hearing, nor leave the reply it was told about half handled.
  private readonly changeListeners = new ListenerSet<ConnectionSnapshot>((error) => {
    console.error(`connection ${this.endpoint}: a change listener failed`, error);
  });
  private readonly lateListeners = new ListenerSet<ReplyMessage>((error) => {
    console.error(`connection ${this.endpoint}: a late-reply listener failed`, error);
  });

  constructor(options: ConnectionOptions) {
    this.endpoint = options.endpoint;
    this.heartbeatMs = options.heartbeatIntervalMs ?? 5000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.missesUntilOffline = Math.max(1, options.missesUntilOffline ?? 3);
    this.reconnectInitialMs = options.reconnectInitialMs ?? 500;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 30_000;
    this.maxInFlight = options.maxInFlight ?? 100_000;
    this.random = options.random ?? Math.random;
    this.curve = options.curve ?? null;
  }

  /**
   * Opens the socket and starts liveness checks. Idempotent.
   * @throws Error when the endpoint is malformed (zeromq rejects it synchronously)
   */
  start(): void {
    if (this.started || this.state === 'closed') return;
    this.started = true;
    this.openSocket();
    this.heartbeatTimer = setInterval(() => {
      this.heartbeat();
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** The current state, for the UI and the dispatcher. */
  snapshot(): ConnectionSnapshot {
    return {
      endpoint: this.endpoint,
      state: this.state,
      lastHeardAt: this.lastHeardAt,
      info: this.info,
      lastError: this.lastError,
      reconnectAttempt: this.attempt,
      nextAttemptAt: this.nextAttemptAt,
      retrying: this.retrying,
      handshakeProblem: this.handshakeProblem,
    };
  }

  /** Whether this connection speaks CurveZMQ. */
  get encrypted(): boolean {
    return this.curve !== null;
  }

  /** Calls `listener` on every state change and every health reply. Returns an unsubscribe. */
  onChange(listener: (s: ConnectionSnapshot) => void): () => void {
    return this.changeListeners.add(listener);
  }

  /**
   * Calls `listener` with replies that arrive after their request timed out: such a reply
   * settles an outcome that was reported unknown. Returns an unsubscribe.
   */
  onLateReply(listener: (reply: ReplyMessage) => void): () => void {
    return this.lateListeners.add(listener);
  }

  /** Requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one request and resolves with its reply.
   *
   * Fails fast with `offline` when the server is known to be unreachable (nothing is sent).
   * A reply with the request's id but of the wrong type rejects with `protocol`. No reply
   * within the timeout rejects with `timeout`: the server may still have run it.
   *
   * @throws RequestError (as a rejection), never anything else
   */
  request<M extends RequestMessage>(msg: M, options: RequestOptions = {}): Promise<ReplyFor[M['type']]> {
    if (this.state === 'closed') return Promise.reject(new RequestError('closed', 'connection is closed'));
    // While retrying only the attempt's own health check goes out: everything else fails fast,
    // as the operator is told the server is offline.
    const attempt = this.retrying && msg.type === 'health_check_request';
    if ((this.state === 'offline' && !attempt) || this.writer === null) {
      return Promise.reject(new RequestError('offline', this.offlineMessage()));
    }
    if (this.pending.has(msg.request_id)) {
      return Promise.reject(
        new RequestError('protocol', `request ${msg.request_id} is already waiting for a reply`, false),
      );
    }
    if (this.pending.size >= this.maxInFlight) {
      return Promise.reject(
        new RequestError('backpressure', `${this.pending.size} requests already wait for ${this.endpoint}`),
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeMessageOnce(msg);
    } catch (e) {
      const tooLarge = e instanceof ProtocolError && e.code === 'too_large';
      return Promise.reject(
        new RequestError(
          tooLarge ? 'too_large' : 'protocol',
          `cannot send ${msg.type}: ${errorText(e)}`,
          false,
        ),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(
        new RequestError(
          'protocol',
          `cannot send ${msg.type}: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
          false,
        ),
      );
    }
    const id = msg.request_id;
    const writer = this.writer;
    return new Promise<ReplyFor[M['type']]>((resolve, reject) => {
      const p: Pending = {
        type: msg.type,
        expect: REPLY_TYPE[msg.type],
        resolve: resolve as (reply: ReplyMessage) => void,
        reject,
        timeoutMs,
        deadline: performance.now() + timeoutMs,
        timer: null,
      };
      this.pending.set(id, p);
      if (msg.type === 'health_check_request') {
        // Its own timer, made in the heartbeat tick with the heartbeat's period, goes off before
        // the next tick, so a missed check is counted before the next one is due. Off the shared
        // timer it could go off after that tick, which would then skip a beat.
        p.timer = setTimeout(this.timeOut, Math.min(timeoutMs, MAX_TIMER_MS), id);
      } else if (p.deadline < this.sweepAt) {
        this.armSweep(p.deadline);
      } else {
        // The sweep already due at or before this deadline was left armed when the last request
        // settled (see `forget`); it must hold the process open again while this one waits.
        this.sweepTimer?.ref();
      }
      const outgoing: Outgoing = { id, bytes };
      const refused = writer.post(outgoing, this.onNotSent);
      if (refused !== null) this.onNotSent(refused, outgoing);
    });
  }

  /** Runs one health check now and resolves with the reply, updating state like a liveness check. */
  async healthCheck(timeoutMs = this.heartbeatMs): Promise<HealthCheckResponse> {
    return this.request({ type: 'health_check_request', request_id: randomUUID() }, { timeoutMs });
  }

  /** Treats an event from the server (e.g. a PUB heartbeat) as a sign of life. */
  noteAlive(): void {
    this.heard();
  }

  /**
   * Declares the server unreachable now, for a reason the caller knows better than missed
   * health checks (the host saw the embedded server's process end): offline at once with
   * `reason` as `lastError`, waiting requests fail with `connection_lost`, and the usual
   * backoff schedules the reconnect. No-op once closed.
   */
  markLost(reason: string): void {
    this.goOffline(reason);
  }

  /**
   * Reconnects now instead of at `nextAttemptAt`, and restarts the backoff from its first step
   * (e.g. the embedded server was just started again). An attempt under way is replaced by a
   * fresh one: its socket may be waiting out libzmq's reconnect interval, or its health check
   * may have gone to the server while it was down and would only fail after the full timeout,
   * then wait a long backoff. No-op unless offline.
   */
  retryNow(): void {
    if (this.state !== 'offline') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.attempt = 0;
    if (this.retrying) this.dropSocket('connection_lost', `reconnect attempt to ${this.endpoint} replaced`);
    this.beginRetry();
  }

  /**
   * Closes the socket, rejects every waiting request with `closed` and stops reconnecting.
   * Waits at most `lingerMs` for queued sends to leave.
   */
  async close(lingerMs = 0): Promise<void> {
    if (this.state === 'closed') return;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = null;
    this.reconnectTimer = null;
    if (lingerMs > 0 && this.writer && this.writer.pending > 0) {
      const deadline = Date.now() + lingerMs;
      while (this.writer.pending > 0 && Date.now() < deadline) await delay(10);
    }
    this.dropSocket('closed', 'connection closed');
    this.retrying = false;
    this.nextAttemptAt = null;
    this.setState('closed', null);
  }

  private openSocket(): void {
    const socket = new zmq.Dealer({
      // libzmq retries a lost TCP connection by itself while we decide liveness; the socket is
      // replaced (with jittered backoff) only once the server is declared offline.
      ...clientSocketOptions(this.curve, 2000),
      // Our writer bounds the queue; libzmq's HWM would block sends silently instead.
      sendHighWaterMark: 0,
      receiveHighWaterMark: 0,
    });
    // Before connect(), so the first handshake's outcome is seen.
    watchSocketEvents(socket, this.curve !== null, (signal) => {
      this.onSocketSignal(socket, signal);
    });
    const endpoint = this.endpoint;
    retryInterrupted(() => {
      socket.connect(endpoint);
    });
    this.socket = socket;
    this.writer = new SerialSender<Outgoing>(socket, (o) => [EMPTY, o.bytes], MAX_QUEUED_SENDS);
    this.healthInFlight = false;
    void this.receiveLoop(socket);
    this.heartbeat();
  }

  private async receiveLoop(socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        if (socket !== this.socket) break;
        // Whatever one message does (a listener that throws included), the next is still read.
        try {
          this.onFrames(frames);
        } catch (e) {
          console.error(`connection ${this.endpoint}: handling a reply failed`, e);
        }
      }
    } catch (e) {
      // Closing the socket ends the iterator with an error; anything else is worth reporting.
      if (socket === this.socket) this.lastError = `receive failed: ${errorText(e)}`;
    }
  }

  private onFrames(frames: Buffer[]): void {
    // A reply is [empty, msgpack]; a bare one-frame reply is tolerated.
    const payload = frames.length >= 2 && frames[0]?.length === 0 ? frames[1] : frames[frames.length - 1];
    if (!payload) return;
    let msg: ZmqMessage;
    try {
      msg = decodeMessage(payload);
    } catch (e) {
      this.lastError = `undecodable reply from ${this.endpoint}: ${errorText(e)}`;
      return;
    }
    if (isRequestType(msg.type)) {
      // A DEALER that reconnects to a dead port in the ephemeral range can connect to itself
      // and "receive" its own requests. Whatever the cause, this peer is not a server.
      this.lastError = `peer at ${this.endpoint} sent a ${msg.type}, not a reply; reconnecting`;
      this.goOffline(this.lastError);
      return;
    }
    if (!('request_id' in msg)) return; // events are not expected on the command socket
    const reply = msg as ReplyMessage;
    const p = this.pending.get(reply.request_id);
    if (reply.type === 'health_check_response' && p?.expect === reply.type) {
      // Before heard(): whoever reacts to the state turning online (the dispatcher deciding
      // whether to resend or how to translate for a Rust server) must see this server's info.
      this.info = serverInfoFromHealth(reply);
    }
    // A reply proves the handshake, even if its monitor event is still on its way.
    if (this.handshakeProblem !== null) this.handshakeProblem = null;
    this.heard();
    if (!p) {
      if (this.timedOut.delete(reply.request_id)) this.lateListeners.emit(reply);
      return;
    }
    this.forget(reply.request_id, p);
    if (reply.type !== p.expect) {
      p.reject(
        new RequestError(
          'protocol',
          `expected ${p.expect} for request ${reply.request_id}, got ${reply.type}`,
          true,
        ),
      );
      return;
    }
    if (reply.type === 'health_check_response') this.emit();
    p.resolve(reply);
  }

  /** Handshake outcomes of the current socket (monitor events, never per message). */
  private onSocketSignal(socket: zmq.Dealer, signal: SocketSignal): void {
    if (socket !== this.socket) return;
    if (signal.kind === 'handshaken') {
      if (this.handshakeProblem === null) return;
      const stale = this.problemText(this.handshakeProblem);
      this.handshakeProblem = null;
      // The refusal is over; the state machine says the rest once the server answers.
      if (this.lastError === stale) this.lastError = null;
      this.emit();
      return;
    }
    if (signal.kind !== 'refused' || signal.problem === null) return;
    this.handshakeProblem = signal.problem;
    this.goOffline(this.problemText(signal.problem));
  }

  private problemText(problem: HandshakeProblem): string {
    return handshakeProblemText(problem, {
      endpoint: this.endpoint,
      serverKey: this.curve?.serverKey ?? null,
      clientPublicKey: this.curve?.keyPair.publicKey ?? null,
    });
  }

  private heartbeat(): void {
    if (this.state === 'closed' || this.healthInFlight || !this.writer) return;
    if (this.state === 'offline' && !this.retrying) return;
    this.healthInFlight = true;
    const socket = this.socket;
    this.healthCheck().then(
      () => {
        if (socket === this.socket) this.healthInFlight = false;
      },
      (e: unknown) => {
        if (socket !== this.socket) return;
        this.healthInFlight = false;
        if (e instanceof RequestError && (e.code === 'timeout' || e.code === 'offline')) this.missed();
      },
    );
  }

  private missed(): void {
    this.misses++;
    const unanswered = `no answer to ${this.misses} health check${this.misses > 1 ? 's' : ''} in a row`;
    // A handshake refused on an earlier socket is the likely cause: say it first.
    let why =
      this.handshakeProblem === null
        ? unanswered
        : `${this.problemText(this.handshakeProblem)} (${unanswered})`;
    // A failed reconnect attempt keeps the reason the server was lost (e.g. its process
    // exited): "no answer" says less, and the operator should not see the reason change.
    if (this.retrying && this.handshakeProblem === null && this.lastError !== null) why = this.lastError;
    if (this.state === 'connecting' || this.state === 'offline' || this.misses >= this.missesUntilOffline)
      this.goOffline(why);
    else this.setState('degraded', why);
  }

  private heard(): void {
    this.lastHeardAt = Date.now();
    this.misses = 0;
    this.attempt = 0;
    // Offline without an attempt under way there is no socket to send on: a PUB heartbeat
    // alone does not bring the server back; the next attempt's health reply does.
    if (this.state === 'online' || this.state === 'closed') return;
    if (this.state === 'offline' && !this.retrying) return;
    this.retrying = false;
    this.setState('online', null);
  }

  private goOffline(why: string): void {
    if (this.state === 'closed') return;
    this.dropSocket(
      'connection_lost',
      `connection to ${this.endpoint} lost (${why}); the server may have run it`,
    );
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const wait = backoffDelay(this.attempt, this.reconnectInitialMs, this.reconnectMaxMs, this.random);
    this.attempt++;
    this.nextAttemptAt = Date.now() + wait;
    this.retrying = false;
    this.state = 'offline';
    this.lastError = why;
    // Always told: even with the same reason, the countdown (nextAttemptAt) is new.
    this.emit();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state === 'offline') this.beginRetry();
    }, wait);
    this.reconnectTimer.unref();
  }

  /** One reconnect attempt: a new socket whose health check decides. The state stays `offline`. */
  private beginRetry(): void {
    this.nextAttemptAt = null;
    this.retrying = true;
    this.openSocket();
    this.emit();
  }

  private dropSocket(code: 'closed' | 'connection_lost', message: string): void {
    const socket = this.socket;
    this.socket = null;
    this.healthInFlight = false;
    for (const [id, p] of this.pending) {
      if (p.timer !== null) clearTimeout(p.timer);
      if (code === 'connection_lost') this.rememberTimedOut(id);
      p.reject(new RequestError(code, message));
    }
    this.pending.clear();
    this.disarmSweep();
    // After the loop: the writer reports the messages it never handed to the socket to
    // onNotSent, which finds them settled above, so they share the verdict of the rest.
    this.writer?.close();
    this.writer = null;
    socket?.close();
  }

  /** The writer could not hand request `id` to the socket: it certainly never left. */
  private readonly onNotSent = (e: unknown, { id }: Outgoing): void => {
    const p = this.pending.get(id);
    if (!p) return;
    this.forget(id, p);
    const full = e instanceof SenderRefusedError && e.code === 'full';
    p.reject(
      new RequestError(
        full ? 'backpressure' : 'offline',
        `not sent to ${this.endpoint}: ${errorText(e)}`,
        false,
      ),
    );
  };

  /**
   * Drops a settled request; with none left, no timer may keep the process alive. The sweep is
   * unref'd rather than cleared: one request at a time would otherwise clear and re-create a
   * Node timer per round trip (timer-list churn that showed in the round-trip tail), while a
   * sweep left armed serves every request sent before it goes off, and finding nothing due it
   * simply re-arms for the earliest deadline still waiting (or for none).
   */
  private forget(id: string, p: Pending): void {
    if (p.timer !== null) clearTimeout(p.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.sweepTimer?.unref();
  }

  private armSweep(deadline: number): void {
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    // Timers fire at whole milliseconds: round up, so a sweep never comes before the deadline.
    // A deadline beyond setTimeout's range is reached by sweeps that find nothing due.
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(deadline - performance.now())));
    this.sweepTimer = setTimeout(this.sweep, delay);
  }

  private disarmSweep(): void {
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.sweepAt = Infinity;
  }

  /** Times out every request past its deadline and sets the timer for the next one. */
  private readonly sweep = (): void => {
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, p] of this.pending) {
      if (p.timer !== null) continue;
      if (p.deadline > now) next = Math.min(next, p.deadline);
      else this.timeOut(id);
    }
    if (next !== Infinity) this.armSweep(next);
  };

  private readonly timeOut = (id: string): void => {
    const p = this.pending.get(id);
    if (!p) return;
    this.forget(id, p);
    this.rememberTimedOut(id);
    const cause = this.handshakeProblem === null ? '' : ` (${this.problemText(this.handshakeProblem)})`;
    p.reject(
      new RequestError(
        'timeout',
        `no reply to ${p.type} ${id} from ${this.endpoint} within ${p.timeoutMs} ms${cause}; the server may still have run it`,
      ),
    );
  };

  private rememberTimedOut(id: string): void {
    this.timedOut.add(id);
    if (this.timedOut.size > LATE_MEMORY) {
      const oldest = this.timedOut.values().next();
      if (!oldest.done) this.timedOut.delete(oldest.value);
    }
  }

  private setState(state: ConnectionState, why: string | null): void {
    const changed = this.state !== state || this.lastError !== why;
    this.state = state;
    this.lastError = why;
    if (changed) this.emit();
  }

  private emit(): void {
    this.changeListeners.emit(this.snapshot());
  }

  private offlineMessage(): string {
    const heard =
      this.lastHeardAt === null
        ? 'never reached'
        : `last heard ${Math.round((Date.now() - this.lastHeardAt) / 1000)} s ago`;
    return `server ${this.endpoint} is offline (${heard}${this.lastError ? `: ${this.lastError}` : ''})`;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
