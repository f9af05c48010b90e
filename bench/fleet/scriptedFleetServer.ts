/**
 * One scripted agent server of the fleet bench: a bare zeromq.js ROUTER answering the requests
 * the console sends (health check with a full server's metadata, list_agents with 100 agents,
 * control commands from a small reply cache, so `dedupe` is advertised truthfully) and a PUB
 * socket publishing `status.<uuid>` updates with `data.seq` (docs/PROTOCOL.md §2, §4). Plain
 * ZMTP (NULL): the console's profiles for these servers are plain, which the console allows by
 * explicit choice (docs/ARCHITECTURE.md §7.2).
 */
import * as zmq from 'zeromq';
import { SerialSender, type Frame } from '../../shared/node/serialSender';
import { encodeMessage, MAX_MESSAGE_BYTES, type AgentInfo, type RequestMessage } from '../../shared/protocol';
import { requestOf, scriptedReply } from '../fixtures/scriptedReplies';
import { fleetAgentId, fleetAgents, AGENTS_PER_SERVER } from './fleetAgents';

const EMPTY = Buffer.alloc(0);
/** Replies kept for repeats (a dedupe server answers a resend from its cache, docs/PROTOCOL.md §4.5). */
const CACHE_LIMIT = 4096;

export class ScriptedFleetServer {
  private router: zmq.Router | null = null;
  private pub: zmq.Publisher | null = null;
  private routerSender: SerialSender<Frame[]> | null = null;
  private pubSender: SerialSender<Frame[]> | null = null;
  private readonly agents: AgentInfo[];
  private readonly cache = new Map<string, Uint8Array>();
  private readonly startedAt = Date.now();
  private seq = 0;
  private nextAgent = 0;
  /** Status updates the PUB socket refused or dropped at our queue (never expected). */
  dropped = 0;

  constructor(
    readonly index: number,
    readonly routerPort: number,
    readonly pubPort: number,
  ) {
    this.agents = fleetAgents(index, Math.floor(this.startedAt / 1000));
  }

  get endpoint(): string {
    return `tcp://127.0.0.1:${this.routerPort}`;
  }

  /** Binds both sockets (retrying while the ports are still held by a just-closed socket). */
  async up(): Promise<void> {
    const router = new zmq.Router({
      maxMessageSize: MAX_MESSAGE_BYTES,
      receiveHighWaterMark: 100_000,
      sendHighWaterMark: 100_000,
      linger: 0,
    });
    const pub = new zmq.Publisher({ sendHighWaterMark: 100_000, linger: 0 });
    await bindRetrying(router, this.endpoint);
    await bindRetrying(pub, `tcp://127.0.0.1:${this.pubPort}`);
    this.router = router;
    this.pub = pub;
    this.routerSender = new SerialSender<Frame[]>(router, (f) => f);
    this.pubSender = new SerialSender<Frame[]>(pub, (f) => f);
    void this.serve(router);
  }

  /** Closes both sockets: to the console the server is unreachable until {@link up}. */
  down(): void {
    this.routerSender?.close();
    this.pubSender?.close();
    this.router?.close();
    this.pub?.close();
    this.router = null;
    this.pub = null;
    this.routerSender = null;
    this.pubSender = null;
  }

  /** Publishes one status update of the next agent (round robin). No-op while down. */
  publishOne(): void {
    const sender = this.pubSender;
    if (sender === null) return;
    const agentId = fleetAgentId(this.index, this.nextAgent);
    this.nextAgent = (this.nextAgent + 1) % AGENTS_PER_SERVER;
    this.seq++;
    const now = Date.now();
    const body = encodeMessage({
      type: 'status_update',
      agent_id: agentId,
      update_type: 'status_changed',
      status: this.seq % 2 === 0 ? 'running' : 'thinking',
      message: null,
      data: { seq: this.seq },
      timestamp: { secs_since_epoch: Math.floor(now / 1000), nanos_since_epoch: (now % 1000) * 1e6 },
    });
    const frame = Buffer.concat([Buffer.from(`status.${agentId}\0`, 'ascii'), body]);
    const refused = sender.post([frame], () => {
      this.dropped++;
    });
    if (refused !== null) this.dropped++;
  }

  private async serve(router: zmq.Router): Promise<void> {
    try {
      for await (const [id, delimiter, body] of router) {
        if (!id || !body || delimiter?.length !== 0) continue;
        const req = requestOf(body);
        if (req === null) continue;
        let reply = this.cache.get(req.request_id);
        if (reply === undefined) {
          reply = this.replyTo(req);
          if (req.type !== 'health_check_request' && req.type !== 'list_agents_request')
            this.remember(req.request_id, reply);
        }
        this.routerSender?.post([id, EMPTY, reply], () => undefined);
      }
    } catch {
      // Closing the socket ends the iterator.
    }
  }

  private remember(id: string, reply: Uint8Array): void {
    this.cache.set(id, reply);
    if (this.cache.size > CACHE_LIMIT) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
  }

  private replyTo(req: RequestMessage): Uint8Array {
    return encodeMessage(
      scriptedReply(req, {
        metadata: {
          server_id: `fleet-${this.index}`,
          pub_endpoint: `tcp://127.0.0.1:${this.pubPort}`,
          capabilities: 'custom_action,batch,output_query,dedupe,status_stream',
          dedupe_epoch: `fleet-bench-${this.index}`,
        },
        uptimeSecs: Math.floor((Date.now() - this.startedAt) / 1000),
        agents: this.agents,
      }),
    );
  }
}

async function bindRetrying(socket: zmq.Router | zmq.Publisher, endpoint: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (error) {
      // A socket closed a moment ago may still hold the port inside libzmq's I/O thread.
      if (attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
