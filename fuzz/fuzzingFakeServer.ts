/**
 * A fake agent server for the client fuzzer: a ROUTER that answers the console's requests with
 * fuzzed replies (wrong types, wrong ids, mutations, hostile frames, broken framing, silence,
 * duplicates, a request instead of a reply) and a PUB that publishes fuzzed events. Switched to
 * {@link FuzzingFakeServer.honest}, it answers like a well-behaved server, so a test can check
 * that the console recovers.
 */
import * as zmq from 'zeromq';
import {
  decodeMessage,
  encodeMessage,
  isRequestType,
  NIL_UUID,
  type ReplyMessage,
  type RequestMessage,
  type StatusUpdate,
  type LogStream,
} from '../shared/protocol';
import type { CurveKeyPair } from '../shared/node/curveKeyPair';
import { encodeEitherForm, junkFraming, mutate, randomValue } from './frameMutator';
import { HOSTILE_CASES, HOSTILE_REQUEST_ID, type HostileCase } from './hostileFrames';
import { sampleEvent, sampleReply, sampleRequest, sampleText } from './messageSamples';
import type { Prng } from './prng';

const EMPTY = new Uint8Array(0);
const MiB = 1024 * 1024;
const HOSTILE_REPLIES: readonly HostileCase[] = HOSTILE_CASES.filter((c) => c.side === 'reply');
const HOSTILE_EVENTS: readonly HostileCase[] = HOSTILE_CASES.filter((c) => c.side !== 'request');
const encoder = new TextEncoder();

/**
 * Odd pub endpoints the console can live with: wildcards it maps to the command host, ones it
 * rejects as malformed tcp, and ones libzmq accepts but never reaches.
 */
const SAFE_PUB_ENDPOINTS: ReadonlySet<string> = new Set([
  'tcp://0.0.0.0:1',
  'tcp://[::1',
  'ipc:///nonexistent/socket',
  'inproc://x',
  'tcp://127.0.0.1:99999',
  'tcp://127.0.0.1:0',
  'tcp://',
]);

/** Capabilities of our server, so the console uses every path (batches, queries, dedupe). */
const CAPABILITIES = 'custom_action,batch,output_query,dedupe,status_stream';

export interface FakeServerOptions {
  readonly commandPort: number;
  readonly pubPort: number;
  /** The server's key pair for CurveZMQ (any client key is admitted); null: plain ZMTP. */
  readonly curve: CurveKeyPair | null;
  /** Agent ids whose logs the console tails: events are aimed at them too. */
  readonly agents: readonly string[];
  /** Chance per reply of a hostile frame of 1 MiB up to 10 MiB. */
  readonly bigHostileChance: number;
  /**
   * Whether health replies may advertise a `pub_endpoint` libzmq cannot connect to (`garbage`,
   * `udp://…`). Such an endpoint once ended the console's receive loop (the event subscriber's
   * connect threw inside the connection's change listener); turning it off narrows a failing
   * run down to everything else.
   */
  readonly malformedPubEndpoints: boolean;
}

export class FuzzingFakeServer {
  /** When true, every request gets a valid reply and events are valid. */
  honest = false;
  /** Fuzzed frames sent (replies, events, unsolicited), by kind. */
  readonly kinds: Record<string, number> = {};
  frames = 0;
  bytesSent = 0;
  requests = 0;
  events = 0;
  readonly commandEndpoint: string;
  readonly pubEndpoint: string;
  /** The key a console pins for this server (Z85), or null when it runs plain. */
  readonly publicKey: string | null;
  private readonly router: zmq.Router;
  private readonly pub: zmq.Publisher;
  private readonly loop: Promise<void>;
  private sendChain: Promise<unknown> = Promise.resolve();
  private pubChain: Promise<unknown> = Promise.resolve();
  private lastPeer: Buffer | null = null;
  /** {@link SAFE_PUB_ENDPOINTS}, ours, and ours with a wildcard host. */
  private readonly safePubEndpoints: ReadonlySet<string>;
  private seq = 0;

  private constructor(
    private readonly prng: Prng,
    private readonly options: FakeServerOptions,
    router: zmq.Router,
    pub: zmq.Publisher,
  ) {
    this.router = router;
    this.pub = pub;
    this.commandEndpoint = `tcp://127.0.0.1:${options.commandPort}`;
    this.pubEndpoint = `tcp://127.0.0.1:${options.pubPort}`;
    this.publicKey = options.curve?.publicKey ?? null;
    this.safePubEndpoints = new Set([...SAFE_PUB_ENDPOINTS, this.pubEndpoint, `tcp://*:${options.pubPort}`]);
    this.loop = this.receive();
  }

  /** Binds both sockets. @throws Error when a port cannot be bound */
  static async start(prng: Prng, options: FakeServerOptions): Promise<FuzzingFakeServer> {
    const security =
      options.curve === null ? {} : { curveServer: true, curveSecretKey: options.curve.secretKey };
    // The console must be able to send 10 MiB; what we send is bounded by our own choice.
    const router = new zmq.Router({ linger: 0, sendHighWaterMark: 10_000, ...security });
    const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 10_000, ...security });
    try {
      await router.bind(`tcp://127.0.0.1:${options.commandPort}`);
      await pub.bind(`tcp://127.0.0.1:${options.pubPort}`);
    } catch (error) {
      router.close();
      pub.close();
      throw error;
    }
    return new FuzzingFakeServer(prng, options, router, pub);
  }

  /** Publishes one event: fuzzed, or valid when {@link honest}. Resolves once it is handed to libzmq. */
  publishEvent(): Promise<void> {
    const prng = this.prng;
    this.events++;
    if (this.honest) return this.publish('honest-event', this.eventFrame(this.validEvent()));
    const r = prng.float();
    if (r < 0.35) return this.publish('event/valid', this.eventFrame(this.validEvent()));
    if (r < 0.45)
      return this.publish(
        'event/seq-jump',
        this.eventFrame(this.validEvent(prng.pick([0, 1, 2 ** 40, 2 ** 53 - 1]))),
      );
    if (r < 0.7) {
      const { bytes, kind } = mutate(
        prng,
        encodeMessage(this.validEvent()),
        encodeMessage(this.validEvent()),
      );
      return this.publish(`event/mutate/${kind}`, [concatTopic(this.topic(), bytes)]);
    }
    if (r < 0.78) {
      const c = prng.pick(HOSTILE_EVENTS);
      const size = prng.chance(this.options.bigHostileChance)
        ? prng.range(MiB, 10 * MiB - 64)
        : prng.range(64, 64 * 1024);
      return this.publish(`event/hostile/${c.name}`, [concatTopic(this.topic(), c.build(size))]);
    }
    if (r < 0.86) return this.publish('event/no-separator', [encoder.encode(`status.${prng.uuid()}`)]);
    if (r < 0.92)
      return this.publish('event/multipart', [encoder.encode('status.'), encodeMessage(this.validEvent())]);
    return this.publish('event/random', [
      concatTopic(this.topic(), prng.chance(0.5) ? randomValue(prng) : prng.bytes(prng.int(64))),
    ]);
  }

  /** An honest status update for `agentId` (not a heartbeat), published at once. */
  publishStatus(agentId: string): Promise<void> {
    const u: StatusUpdate = {
      type: 'status_update',
      agent_id: agentId,
      update_type: 'status_changed',
      status: 'running',
      message: 'honest',
      data: { seq: ++this.seq },
      timestamp: { secs_since_epoch: Math.floor(Date.now() / 1000), nanos_since_epoch: 0 },
    };
    return this.publish('honest-event', this.eventFrame(u));
  }

  /** An honest log chunk for `agentId`, published at once. */
  publishLog(agentId: string, text: string): Promise<void> {
    const chunk: LogStream = {
      type: 'log_stream',
      agent_id: agentId,
      stream_type: 'stdout',
      data: Array.from(encoder.encode(text)),
      timestamp: { secs_since_epoch: Math.floor(Date.now() / 1000), nanos_since_epoch: 0 },
      sequence: ++this.seq,
    };
    return this.publish('honest-event', this.eventFrame(chunk));
  }

  /** Sends the console something it did not ask for (when it has sent anything yet). */
  unsolicited(): Promise<void> {
    if (this.lastPeer === null) return Promise.resolve();
    const prng = this.prng;
    const req = sampleRequest(prng, { knownAgents: this.options.agents, spawnChance: 0.1 });
    return this.reply(this.lastPeer, 'unsolicited', [
      EMPTY,
      encodeEitherForm(prng, sampleReply(prng, req, this.healthOptions())),
    ]);
  }

  async close(): Promise<void> {
    this.router.close();
    this.pub.close();
    await this.loop;
    await Promise.allSettled([this.sendChain, this.pubChain]);
  }

  private async receive(): Promise<void> {
    try {
      for await (const [peer, ...frames] of this.router) {
        if (peer === undefined) continue;
        this.lastPeer = peer;
        const payload = frames.length >= 2 && frames[0]?.length === 0 ? frames[1] : frames[frames.length - 1];
        if (payload === undefined) continue;
        let req: RequestMessage;
        try {
          req = decodeMessage(payload) as RequestMessage;
        } catch {
          continue; // the console sends only what our codec wrote; nothing to answer
        }
        if (!isRequestType(req.type)) continue;
        this.requests++;
        void this.answer(peer, req);
      }
    } catch {
      // closed
    }
  }

  private healthOptions(): { healthMetadata: Record<string, string> } {
    return {
      healthMetadata: {
        server_id: 'fuzz',
        pub_endpoint: this.pubEndpoint,
        capabilities: CAPABILITIES,
        security: this.options.curve === null ? 'none' : 'curve',
      },
    };
  }

  private honestReply(req: RequestMessage): Uint8Array {
    return encodeMessage(sampleReply(this.prng, req, this.healthOptions()));
  }

  private answer(peer: Buffer, req: RequestMessage): Promise<void> {
    const prng = this.prng;
    if (this.honest) {
      const reply = sampleReply(prng, req, this.healthOptions());
      if (reply.type === 'health_check_response') reply.healthy = true;
      return this.reply(peer, 'honest', [EMPTY, encodeMessage(reply)]);
    }
    // Health checks are what keep the console online: most get a valid answer, so the other
    // requests keep flowing (and get fuzzed) instead of failing fast while it is offline.
    if (req.type === 'health_check_request' && prng.chance(0.6)) {
      return this.reply(peer, 'reply/valid-health', [EMPTY, this.honestReply(req)]);
    }
    const r = prng.float();
    if (r < 0.3) return this.reply(peer, 'reply/valid', [EMPTY, this.honestReply(req)]);
    if (r < 0.38) {
      // A server that advertises strange metadata: where to subscribe, capabilities, ids.
      const connectable = [...this.safePubEndpoints];
      const malformed = ['', 'garbage', 'udp://127.0.0.1:5', 'pgm://x', sampleText(prng)];
      const metadata: Record<string, string> = {
        pub_endpoint: prng.pick(
          this.options.malformedPubEndpoints && prng.chance(0.4) ? malformed : connectable,
        ),
        capabilities: prng.pick(['', ',,,', CAPABILITIES, 'dedupe', sampleText(prng)]),
        server_id: sampleText(prng),
        dedupe_epoch: sampleText(prng),
      };
      return this.reply(peer, 'reply/odd-metadata', [
        EMPTY,
        encodeMessage(sampleReply(prng, req, { healthMetadata: metadata })),
      ]);
    }
    if (r < 0.46) {
      const other = sampleRequest(prng, { knownAgents: this.options.agents, spawnChance: 0.2 });
      return this.reply(peer, 'reply/wrong-type', [
        EMPTY,
        encodeEitherForm(prng, sampleReply(prng, { ...other, request_id: req.request_id })),
      ]);
    }
    if (r < 0.51) {
      return this.reply(peer, 'reply/other-id', [
        EMPTY,
        encodeEitherForm(prng, sampleReply(prng, { ...req, request_id: prng.uuid() })),
      ]);
    }
    if (r < 0.66) {
      const { bytes, kind } = mutate(prng, this.honestReply(req), this.honestReply(req));
      return this.reply(peer, `reply/mutate/${kind}`, [EMPTY, bytes]);
    }
    if (r < 0.71) {
      const c = prng.pick(HOSTILE_REPLIES);
      const size = prng.chance(this.options.bigHostileChance)
        ? prng.range(MiB, 10 * MiB - 64)
        : prng.range(64, 64 * 1024);
      return this.reply(peer, `reply/hostile/${c.name.split('/')[1] ?? c.name}`, [
        EMPTY,
        withRequestId(c.build(size), req.request_id),
      ]);
    }
    if (r < 0.76) return this.reply(peer, 'reply/framing', junkFraming(prng, this.honestReply(req)));
    if (r < 0.81) {
      this.count('reply/silence', 0);
      return Promise.resolve();
    }
    if (r < 0.86) {
      const bytes = this.honestReply(req);
      return this.reply(peer, 'reply/twice', [EMPTY, bytes]).then(() =>
        this.reply(peer, 'reply/twice', [EMPTY, bytes]),
      );
    }
    if (r < 0.865) {
      // A peer that answers with a request is not a server: the console must reconnect.
      return this.reply(peer, 'reply/a-request', [EMPTY, encodeMessage({ ...req, request_id: prng.uuid() })]);
    }
    if (r < 0.93)
      return this.reply(peer, 'reply/random', [
        EMPTY,
        prng.chance(0.5) ? randomValue(prng, 3) : prng.bytes(prng.int(64)),
      ]);
    return this.unsolicited().then(() => this.reply(peer, 'reply/valid', [EMPTY, this.honestReply(req)]));
  }

  /**
   * Whether `frame` decodes to a health reply whose pub_endpoint the console would try and fail
   * to connect to (a mutation can make one out of ours), which `malformedPubEndpoints: false`
   * keeps out of a run.
   */
  private advertisesUnconnectable(frame: Uint8Array): boolean {
    let msg;
    try {
      msg = decodeMessage(frame);
    } catch {
      return false;
    }
    if (msg.type !== 'health_check_response') return false;
    const advertised = msg.metadata?.pub_endpoint;
    return advertised !== undefined && !this.safePubEndpoints.has(advertised);
  }

  /** A health reply that keeps the console where it is (nothing to answer; sent unsolicited). */
  private healthyReply(): ReplyMessage {
    return sampleReply(
      this.prng,
      { type: 'health_check_request', request_id: this.prng.uuid() },
      this.healthOptions(),
    );
  }

  private count(kind: string, bytes: number): void {
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    this.frames++;
    this.bytesSent += bytes;
  }

  /** Sends to `peer`; sends are chained (zeromq.js allows one in flight). Never rejects. */
  private reply(peer: Buffer, kind: string, frames: Uint8Array[]): Promise<void> {
    if (!this.options.malformedPubEndpoints && frames.some((f) => this.advertisesUnconnectable(f))) {
      kind = 'reply/withheld-bad-endpoint';
      frames = [EMPTY, encodeMessage(this.healthyReply())];
    }
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    this.count(kind, bytes);
    const next = this.sendChain.then(() => this.router.send([peer, ...frames]));
    this.sendChain = next.catch(() => undefined);
    return next.catch(() => undefined);
  }

  private publish(kind: string, frames: Uint8Array[]): Promise<void> {
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    this.count(kind, bytes);
    const next = this.pubChain.then(() => this.pub.send(frames));
    this.pubChain = next.catch(() => undefined);
    return next.catch(() => undefined);
  }

  private validEvent(seq?: number): StatusUpdate | LogStream {
    const prng = this.prng;
    const agent = prng.chance(0.2)
      ? NIL_UUID
      : prng.chance(0.7)
        ? prng.pick(this.options.agents)
        : prng.uuid();
    const e = sampleEvent(prng, agent, seq ?? ++this.seq);
    if (agent === NIL_UUID && e.type === 'status_update') e.update_type = 'heartbeat';
    return e;
  }

  private eventFrame(e: StatusUpdate | LogStream): Uint8Array[] {
    const topic = e.type === 'status_update' ? `status.${e.agent_id}` : e.agent_id;
    return [concatTopic(topic, encodeEitherForm(this.prng, e))];
  }

  private topic(): string {
    const prng = this.prng;
    const agent = prng.pick(this.options.agents);
    return prng.pick([`status.${agent}`, agent, `status.${NIL_UUID}`, 'status.', sampleText(prng)]);
  }
}

/** One PUB frame: `<topic> 0x00 <msgpack>`. */
function concatTopic(topic: string, payload: Uint8Array): Uint8Array {
  const t = encoder.encode(topic);
  const out = new Uint8Array(t.length + 1 + payload.length);
  out.set(t);
  out.set(payload, t.length + 1);
  return out;
}

/**
 * A hostile frame with its request id swapped for `requestId` (same length: both are UUID
 * text), so the console matches it to a waiting request and decodes it for real.
 */
function withRequestId(frame: Uint8Array, requestId: string): Uint8Array {
  const id = encoder.encode(requestId);
  const out = frame.slice();
  const at = indexOf(out, encoder.encode(HOSTILE_REQUEST_ID));
  if (at >= 0 && id.length === 36) out.set(id, at);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const limit = Math.min(haystack.length - needle.length, 256);
  outer: for (let i = 0; i <= limit; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
