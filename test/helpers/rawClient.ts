import * as zmq from 'zeromq';
import { decodeMessage, encodeMessage, REPLY_TYPE } from '../../shared/protocol';
import type { ReplyFor, ReplyMessage, RequestMessage, ZmqMessage } from '../../shared/protocol';
import { receiveFrames } from './receiveFrames';
import { curveClientOptions, type CurveClient } from './testKeys';

/** Default time a test waits for one reply, in ms. */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

interface Waiter {
  resolve(reply: ReplyMessage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A thin DEALER client for tests: sends `[empty, msgpack]`, runs one receive loop and matches
 * replies to requests by `request_id` (never by order). Replies that nobody waits for yet are
 * buffered per `request_id`, so a test can send first and collect later, or collect several
 * replies to one id (dedupe).
 *
 * Anything the server sends that breaks the framing or does not decode is recorded in
 * {@link violations} instead of being dropped silently.
 */
export class RawClient {
  /** `request_id`s of the replies in the order they arrived. */
  readonly arrivals: string[] = [];
  /** Replies that broke the wire rules (missing empty delimiter, undecodable, no request_id). */
  readonly violations: string[] = [];

  private readonly waiters = new Map<string, Waiter[]>();
  private readonly buffered = new Map<string, ReplyMessage[]>();
  private sendChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly socket: zmq.Dealer,
    /** The endpoint this client is connected to. */
    readonly endpoint: string,
  ) {
    this.loop = receiveFrames(socket, this.onFrames.bind(this), this.violations, () => this.closed);
  }

  /**
   * Connects a new DEALER (linger 0) to `endpoint`. Never waits for the peer.
   * @param curve the server's key (and our key pair, default the test process's) for a CURVE
   *   server; null or absent for a plain one
   */
  static connect(endpoint: string, curve?: CurveClient | null): RawClient {
    const socket = new zmq.Dealer({ linger: 0, ...curveClientOptions(curve) });
    socket.connect(endpoint);
    return new RawClient(socket, endpoint);
  }

  /**
   * Sends frames as they are (the caller adds the empty delimiter or not). Sends are
   * serialized: zeromq.js rejects a second concurrent `send()` on one socket with EBUSY.
   */
  sendRaw(frames: (Uint8Array | string)[]): Promise<void> {
    const next = this.sendChain.then(() => this.socket.send(frames));
    this.sendChain = next.catch(() => undefined);
    return next;
  }

  /** Encodes `msg` and sends `[empty, msgpack]`. @throws when encoding fails or the socket is closed */
  send(msg: ZmqMessage): Promise<void> {
    return this.sendRaw([new Uint8Array(0), encodeMessage(msg)]);
  }

  /**
   * The next not-yet-taken reply carrying `requestId`.
   * @throws Error when none arrives within `timeoutMs` ms or the client is closed
   */
  reply(requestId: string, timeoutMs = DEFAULT_REPLY_TIMEOUT_MS): Promise<ReplyMessage> {
    const queue = this.buffered.get(requestId);
    const first = queue?.shift();
    if (first !== undefined) return Promise.resolve(first);
    if (this.closed) return Promise.reject(new Error('client closed'));
    return new Promise<ReplyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(requestId) ?? [];
        const index = list.indexOf(waiter);
        if (index >= 0) list.splice(index, 1);
        reject(new Error(`no reply to request_id ${requestId} within ${timeoutMs} ms from ${this.endpoint}`));
      }, timeoutMs);
      const waiter: Waiter = { resolve, reject, timer };
      const list = this.waiters.get(requestId);
      if (list === undefined) this.waiters.set(requestId, [waiter]);
      else list.push(waiter);
    });
  }

  /**
   * Sends `msg` and waits for its reply, checking the reply type matches the request type.
   * @throws Error on timeout or a reply of the wrong type
   */
  async request<M extends RequestMessage>(
    msg: M,
    timeoutMs = DEFAULT_REPLY_TIMEOUT_MS,
  ): Promise<ReplyFor[M['type']]> {
    const pending = this.reply(msg.request_id, timeoutMs);
    await this.send(msg);
    const reply = await pending;
    const expected = REPLY_TYPE[msg.type];
    if (reply.type !== expected) {
      throw new Error(`expected ${expected} to ${msg.type} ${msg.request_id}, got ${describe(reply)}`);
    }
    return reply as ReplyFor[M['type']];
  }

  /** Closes the socket; pending `reply()` calls reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    for (const list of this.waiters.values()) {
      for (const waiter of list) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('client closed'));
      }
    }
    this.waiters.clear();
    await this.loop;
  }

  private onFrames(frames: Buffer[]): void {
    const [delimiter, payload] = frames;
    if (delimiter === undefined || payload === undefined || delimiter.length !== 0) {
      this.violations.push(`reply without [empty, msgpack] framing: ${frames.length} frame(s)`);
      return;
    }
    let reply: ZmqMessage;
    try {
      reply = decodeMessage(payload);
    } catch (err) {
      this.violations.push(`undecodable reply (${payload.length} bytes): ${String(err)}`);
      return;
    }
    if (!('request_id' in reply)) {
      this.violations.push(`reply without request_id: ${reply.type}`);
      return;
    }
    const typed = reply as ReplyMessage;
    this.arrivals.push(typed.request_id);
    const waiter = this.waiters.get(typed.request_id)?.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.resolve(typed);
      return;
    }
    const queue = this.buffered.get(typed.request_id);
    if (queue === undefined) this.buffered.set(typed.request_id, [typed]);
    else queue.push(typed);
  }
}

function describe(reply: ReplyMessage): string {
  const error = 'error' in reply && typeof reply.error === 'string' ? ` (error: ${reply.error})` : '';
  return `${reply.type}${error}`;
}
