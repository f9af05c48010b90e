/**
 * The frames the server fuzzer sends, drawn from a seeded PRNG: valid requests (array and map
 * form), valid messages that are not requests, mutations of valid messages of every type,
 * replays of request ids, random bytes, broken multipart framing and hostile frames up to
 * 10 MiB.
 */
import { encodeMessage, type RequestMessage } from '../shared/protocol';
import { encodeEitherForm, junkFraming, mutate, randomValue } from './frameMutator';
import { HOSTILE_CASES, type HostileCase } from './hostileFrames';
import { sampleAnyMessage, sampleRequest } from './messageSamples';
import type { Prng } from './prng';

/** One message to send on a DEALER: its frames (normally `[empty, msgpack]`) and what it is. */
export interface FuzzFrame {
  /** What kind of frame it is, for the report (e.g. `valid-request`, `mutate/bit-flips`). */
  readonly kind: string;
  readonly frames: Uint8Array[];
}

const EMPTY = new Uint8Array(0);
const HOSTILE_REQUESTS: readonly HostileCase[] = HOSTILE_CASES.filter((c) => c.side === 'request');
const MiB = 1024 * 1024;

export interface ServerFrameSourceOptions {
  /** Largest hostile frame, bytes (at most 10 MiB). */
  readonly maxHostileBytes: number;
  /** Chance per frame of a hostile frame of 1 MiB up to `maxHostileBytes`. */
  readonly bigHostileChance: number;
  /** Chance that a valid request is a spawn (each starts a process). */
  readonly spawnChance: number;
}

export class ServerFrameSource {
  /** Agent ids the server reported from spawns: valid requests aim at them. */
  readonly knownAgents: string[] = [];
  private readonly recent: RequestMessage[] = [];

  constructor(
    private readonly prng: Prng,
    private readonly options: ServerFrameSourceOptions,
  ) {}

  /** Remembers an agent the server runs (keeps the last 32). */
  addAgent(id: string): void {
    if (this.knownAgents.includes(id)) return;
    this.knownAgents.push(id);
    if (this.knownAgents.length > 32) this.knownAgents.shift();
  }

  /** The next frame to send. */
  next(): FuzzFrame {
    const prng = this.prng;
    if (prng.chance(this.options.bigHostileChance))
      return this.hostile('hostile-big', MiB, this.options.maxHostileBytes);
    const r = prng.float();
    if (r < 0.25) return this.payload('valid-request', encodeEitherForm(prng, this.request()));
    if (r < 0.31)
      return this.payload('valid-other', encodeEitherForm(prng, sampleAnyMessage(prng, this.knownAgents)));
    if (r < 0.7) {
      const base = prng.chance(0.7) ? this.request() : sampleAnyMessage(prng, this.knownAgents);
      const other = encodeMessage(sampleAnyMessage(prng, this.knownAgents));
      const { bytes, kind } = mutate(prng, encodeEitherForm(prng, base), other);
      return this.payload(`mutate/${kind}`, bytes);
    }
    if (r < 0.75) return this.payload('replay', encodeMessage(this.replay()));
    if (r < 0.8) return this.payload('random-bytes', prng.bytes(prng.int(64)));
    if (r < 0.84) return this.payload('random-value', randomValue(prng, 3));
    if (r < 0.9) return { kind: 'framing', frames: junkFraming(prng, encodeMessage(this.request())) };
    return this.hostile('hostile', 64, 64 * 1024);
  }

  private payload(kind: string, bytes: Uint8Array): FuzzFrame {
    return { kind, frames: [EMPTY, bytes] };
  }

  private request(): RequestMessage {
    const req = sampleRequest(this.prng, {
      knownAgents: this.knownAgents,
      spawnChance: this.options.spawnChance,
    });
    this.recent.push(req);
    if (this.recent.length > 64) this.recent.shift();
    return req;
  }

  /** A request reusing a recent request id: the same request again, or another type (refused). */
  private replay(): RequestMessage {
    const prng = this.prng;
    const old = this.recent.length > 0 ? prng.pick(this.recent) : this.request();
    if (prng.chance(0.5)) return old;
    const other = sampleRequest(prng, { knownAgents: this.knownAgents, spawnChance: 0 });
    return { ...other, request_id: old.request_id };
  }

  private hostile(label: string, minBytes: number, maxBytes: number): FuzzFrame {
    const prng = this.prng;
    const c = prng.pick(HOSTILE_REQUESTS);
    const size = Math.max(64, Math.floor(minBytes + prng.float() * (maxBytes - minBytes)));
    return this.payload(`${label}/${c.name.split('/')[1] ?? c.name}`, c.build(size));
  }
}
