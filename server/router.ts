import * as zmq from 'zeromq';
import { SerialSender } from '../shared/node/serialSender';
import { RebindGate } from './rebindGate';
import type { ServerSecurity } from './security/serverSecurity';
import { bindServerSocket, serverSocketOptions } from './serverSocket';
import type { Stats } from './stats';

/** One request as it came off the wire. */
export interface IncomingFrame {
  /** ROUTER routing id of the peer; pass it back to {@link CommandSocket.reply}. */
  readonly routingId: Buffer;
  /** The msgpack frame (the first frame after the empty delimiter). */
  readonly payload: Buffer;
  /** Bytes of all frames after the routing id. */
  readonly totalBytes: number;
}

interface Outgoing {
  readonly routingId: Buffer;
  readonly bytes: Uint8Array;
}

const EMPTY = Buffer.alloc(0);

/**
 * The ROUTER command socket: one `for await` receive loop handing each message to `onFrame`
 * (which must not throw and should not await: requests run concurrently), and one writer.
 *
 * Replies are `[routing-id, empty, msgpack]`, which both a DEALER (that sends the delimiter
 * itself) and a REQ socket expect. ZMTP heartbeats stay off (Rust peers have no PING).
 * `maxMessageSize` is 10 MiB: libzmq drops a peer that sends a larger frame.
 */
export class CommandSocket {
  private readonly writer: SerialSender<Outgoing>;
  private readonly gate: RebindGate;
  private loop: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onNotSent = (error: unknown): void => {
    if (!this.closed) process.stderr.write(`descartes-server: reply not sent: ${String(error)}\n`);
  };

  private constructor(
    private readonly socket: zmq.Router,
    /** The bound endpoint with its port resolved. */
    readonly endpoint: string,
  ) {
    this.gate = new RebindGate(socket, endpoint);
    this.writer = new SerialSender<Outgoing>(this.gate, (o) => [o.routingId, EMPTY, o.bytes]);
  }

  /**
   * Binds the ROUTER and starts the receive loop.
   * @param security the server's transport security: only peers it admits get a frame through
   * @throws BindError naming the endpoint when it is in use or invalid
   */
  static async bind(
    endpoint: string,
    stats: Stats,
    onFrame: (frame: IncomingFrame) => void,
    security: ServerSecurity,
  ): Promise<CommandSocket> {
    const socket = new zmq.Router({
      ...serverSocketOptions(security),
      // A pipelined burst of 10 000 requests must not be dropped or stall the peer.
      receiveHighWaterMark: 100_000,
      sendHighWaterMark: 100_000,
    });
    socket.events.on('disconnect', () => {
      stats.increment('disconnects');
    });
    const cs = new CommandSocket(
      socket,
      await bindServerSocket(socket, endpoint, security, 'command socket'),
    );
    cs.loop = cs.receive(onFrame);
    return cs;
  }

  private async receive(onFrame: (frame: IncomingFrame) => void): Promise<void> {
    for (;;) {
      try {
        for await (const frames of this.socket) {
          const [routingId, ...rest] = frames;
          if (!routingId) continue;
          // From DEALER/REQ the first frame after the routing id is the empty delimiter.
          const body = rest[0]?.length === 0 ? rest.slice(1) : rest;
          let totalBytes = 0;
          for (const f of rest) totalBytes += f.length;
          onFrame({ routingId, payload: body[0] ?? EMPTY, totalBytes });
        }
        return;
      } catch (error) {
        const rebinding = this.gate.pending;
        if (rebinding !== null && !this.closed) {
          await rebinding;
          continue;
        }
        if (!this.closed)
          process.stderr.write(`descartes-server: command socket receive loop ended: ${String(error)}\n`);
        return;
      }
    }
  }

  /**
   * Drops every peer's connection by unbinding and binding the endpoint again: peers reconnect
   * by themselves and handshake anew (a revoked key is then refused). Replies to requests in
   * flight are lost; a client resends them (the dedupe cache answers without running twice).
   */
  async dropConnections(): Promise<void> {
    if (this.closed) return;
    await this.gate.drop();
  }

  /** Queues a reply to a peer (never blocks; a peer that is gone makes libzmq drop it). */
  reply(routingId: Buffer, bytes: Uint8Array): void {
    this.writer.post({ routingId, bytes }, this.onNotSent);
  }

  /** Waits for queued replies to be handed over, then closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.race([this.writer.idle(), new Promise((r) => setTimeout(r, 1000))]);
    this.closed = true;
    this.writer.close();
    this.socket.close();
    await this.loop;
  }

  /** Replies still waiting to be sent. */
  get queued(): number {
    return this.writer.pending;
  }
}
