import * as zmq from 'zeromq';
import { receiveFrames } from './receiveFrames';
import { curveClientOptions, type CurveClient } from './testKeys';
import { decodeMessage } from '../../shared/protocol';
import type { EventMessage } from '../../shared/protocol';

/** One event from the PUB socket, as received. */
export interface ReceivedEvent {
  /** The ASCII topic before the 0x00 separator. */
  topic: string;
  message: EventMessage;
  /** `performance.now()` when it arrived, in ms. */
  receivedAt: number;
}

interface Waiter {
  predicate(event: ReceivedEvent): boolean;
  resolve(event: ReceivedEvent): void;
}

/**
 * A SUB socket collecting every event of the topics it subscribes to. An event is one frame
 * `<topic ASCII> 0x00 <msgpack>` (docs/PROTOCOL.md §1.2); anything else lands in {@link violations}.
 */
export class EventCollector {
  /** Every event received so far, in arrival order. */
  readonly events: ReceivedEvent[] = [];
  /** Frames that broke the event framing or did not decode. */
  readonly violations: string[] = [];

  private waiters: Waiter[] = [];
  private closed = false;
  private readonly loop: Promise<void>;

  private constructor(private readonly socket: zmq.Subscriber) {
    this.loop = receiveFrames(socket, this.onFrames.bind(this), this.violations, () => this.closed);
  }

  /**
   * Connects a SUB socket to `endpoint` and subscribes `topics` (prefix match; `''` = all).
   * Subscriptions reach the publisher asynchronously: wait for a first event (e.g. a heartbeat)
   * before relying on them.
   * @param curve the server's key for a CURVE server (see `ServerProcess.curve`); null for plain
   */
  static connect(endpoint: string, topics: string[], curve?: CurveClient | null): EventCollector {
    const socket = new zmq.Subscriber({ linger: 0, ...curveClientOptions(curve) });
    socket.connect(endpoint);
    for (const topic of topics) socket.subscribe(topic);
    return new EventCollector(socket);
  }

  /** Adds a subscription (prefix match). */
  subscribe(topic: string): void {
    this.socket.subscribe(topic);
  }

  /**
   * The first event (already received or still to come) that satisfies `predicate`.
   * @throws Error when none arrives within `timeoutMs` ms
   */
  waitFor(
    predicate: (event: ReceivedEvent) => boolean,
    timeoutMs = 10_000,
    what = 'matching event',
  ): Promise<ReceivedEvent> {
    const found = this.events.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<ReceivedEvent>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms (${this.events.length} events received)`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Closes the socket. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    await this.loop;
  }

  private onFrames(frames: Buffer[]): void {
    const [frame] = frames;
    if (frame === undefined || frames.length !== 1) {
      this.violations.push(`event of ${frames.length} frames (expected one)`);
      return;
    }
    const separator = frame.indexOf(0);
    if (separator < 0) {
      this.violations.push('event frame without a 0x00 topic separator');
      return;
    }
    const topic = frame.subarray(0, separator).toString('latin1');
    let message;
    try {
      message = decodeMessage(frame.subarray(separator + 1));
    } catch (err) {
      this.violations.push(`undecodable event on ${topic}: ${String(err)}`);
      return;
    }
    if (message.type !== 'status_update' && message.type !== 'log_stream') {
      this.violations.push(`non-event message ${message.type} on topic ${topic}`);
      return;
    }
    const event: ReceivedEvent = { topic, message, receivedAt: performance.now() };
    this.events.push(event);
    const matched = this.waiters.filter((w) => w.predicate(event));
    if (matched.length > 0) {
      this.waiters = this.waiters.filter((w) => !matched.includes(w));
      for (const waiter of matched) waiter.resolve(event);
    }
  }
}
