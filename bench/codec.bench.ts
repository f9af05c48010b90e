/**
 * Codec benchmark (issue 14, deliverable 1): encode+decode of three representative messages
 * through our codec (`encodeMessage` then `decodeMessage`), against two raw libraries encoding
 * and decoding the same message as the positional array `rmp_serde` writes:
 *
 * - `msgpackr` (a reused `Packr`, native string extraction on: the bench prints
 *   `isNativeAccelerationEnabled`), goal ratio ≥ 1.0;
 * - `@msgpack/msgpack` (a reused Encoder and Decoder), goal ratio ≥ 1.5.
 *
 * Why the baseline is fair: each library is handed the very positional array our codec writes
 * (tag, fields in order, the uuid as 16 bytes), and the bench checks before timing that it writes
 * the same bytes as ours (it prints whether they are identical; a size difference aborts the bench).
 * The libraries do no validation at all, while ours checks every field's type and range on encode
 * and rejects what the Rust decoder rejects on decode (invalid UTF-8, missing or duplicate fields,
 * ext values, the size/nesting/memory limits), and decodes into the message objects, not arrays.
 *
 * Rounds interleave the three (ours, msgpackr, @msgpack/msgpack) so drift on a shared machine hits
 * all alike; the figures are medians of the rounds, and every round's figures are printed and kept
 * in the result's notes. ratio = ours / raw throughput (msg/s).
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { Packr, isNativeAccelerationEnabled } from 'msgpackr';
import { decodeMessage, encodeMessage, type ZmqMessage } from '../shared/protocol';
import { median, opsPerSecond, report, result, type BenchResult } from './harness';

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
const uuidBytes = Uint8Array.from(uuid.replace(/-/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));
const time = { secs_since_epoch: 1_764_000_000, nanos_since_epoch: 123_456_789 };

interface Case {
  name: string;
  message: ZmqMessage;
  /** The same message as the positional array `rmp_serde` writes. */
  raw: unknown[];
}

const lines = Array.from(
  { length: 1000 },
  (_, i) => `2026-11-27T17:00:00.${String(i).padStart(3, '0')}Z INFO worker-${i % 7} step ${i} done`,
);

const cases: Case[] = [
  {
    name: 'control_command',
    message: {
      type: 'control_command',
      request_id: 'b0a3c2c4-8f7e-4d1a-9a53-0f1f2e3d4c5b',
      agent_id: uuid,
      command_type: 'pause',
      payload: { force: true },
    },
    raw: ['control_command', 'b0a3c2c4-8f7e-4d1a-9a53-0f1f2e3d4c5b', uuidBytes, 'pause', { force: true }],
  },
  {
    name: 'spawn_response with agent_info',
    message: {
      type: 'spawn_response',
      request_id: 'b0a3c2c4-8f7e-4d1a-9a53-0f1f2e3d4c5b',
      success: true,
      agent_info: {
        id: uuid,
        name: 'refactor-worker',
        status: 'running',
        model_backend: 'claude',
        started_at: time,
        task: 'Refactor the payment module and keep the tests green',
        paused_at: null,
        pause_mode: null,
        attach_info: { connect_url: 'tcp://127.0.0.1:7000', token: 'tok-123456', expires_at: 1_764_003_600 },
      },
      error: null,
      server_id: 'srv-1a2b3c4d',
    },
    raw: [
      'spawn_response',
      'b0a3c2c4-8f7e-4d1a-9a53-0f1f2e3d4c5b',
      true,
      [
        uuidBytes,
        'refactor-worker',
        'running',
        'claude',
        [1_764_000_000, 123_456_789],
        'Refactor the payment module and keep the tests green',
        null,
        null,
        ['tcp://127.0.0.1:7000', 'tok-123456', 1_764_003_600],
      ],
      null,
      'srv-1a2b3c4d',
    ],
  },
  {
    name: 'output_query_response 1000 lines',
    message: {
      type: 'output_query_response',
      request_id: 'b0a3c2c4-8f7e-4d1a-9a53-0f1f2e3d4c5b',
      agent_id: uuid,
      success: true,
      lines,
      total_lines: 25_000,
      has_more: true,
      error: null,
    },
    raw: [
      'output_query_response',
      'b0a3c2c4-8f7e-4d1a-9a53-0f1f2e3d4c5b',
      uuidBytes,
      true,
      lines,
      25_000,
      true,
      null,
    ],
  },
];

const ROUNDS = 7;
const ROUND_MS = 500;

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function run(): Promise<void> {
  console.log(`msgpackr isNativeAccelerationEnabled: ${String(isNativeAccelerationEnabled)}`);
  const encoder = new Encoder();
  const decoder = new Decoder();
  // Positional arrays carry no records; maps (the JSON payload) take their smallest header, as rmp writes.
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const results: BenchResult[] = [];
  for (const c of cases) {
    const ours = encodeMessage(c.message);
    const viaMsgpack = encoder.encode(c.raw);
    const viaMsgpackr = packr.pack(c.raw);
    for (const [lib, bytes] of [
      ['@msgpack/msgpack', viaMsgpack],
      ['msgpackr', viaMsgpackr],
    ] as const) {
      if (bytes.length !== ours.length) {
        // Same positional arrays should give the same size; a difference means the bench compares unlike work.
        throw new Error(`${c.name}: our encoding is ${ours.length} bytes, ${lib}'s is ${bytes.length}`);
      }
      console.log(
        `${c.name}: ${lib} writes the same ${ours.length} bytes as ours: ${sameBytes(bytes, ours)}`,
      );
    }
    const runs: [string, () => number][] = [
      [
        'ours',
        () => {
          decodeMessage(encodeMessage(c.message));
          return 1;
        },
      ],
      [
        'msgpackr',
        () => {
          packr.unpack(packr.pack(c.raw));
          return 1;
        },
      ],
      [
        '@msgpack/msgpack',
        () => {
          decoder.decode(encoder.encode(c.raw));
          return 1;
        },
      ],
    ];
    const rounds: number[][] = runs.map(() => []);
    for (let i = 0; i < ROUNDS; i++) {
      runs.forEach(([, fn], k) => rounds[k]?.push(opsPerSecond(fn, ROUND_MS, i === 0 ? 300 : 50)));
      const [o = 0, r = 0, m = 0] = rounds.map((xs) => xs[i] ?? 0);
      console.log(
        `  ${c.name} round ${i + 1}: ours ${fmt(o)}, msgpackr ${fmt(r)}, @msgpack/msgpack ${fmt(m)} msg/s` +
          ` (vs msgpackr ${(o / r).toFixed(2)}, vs @msgpack/msgpack ${(o / m).toFixed(2)})`,
      );
    }
    const [oursRounds = [], packrRounds = [], msgpackRounds = []] = rounds;
    const perRound = (raw: number[]): string =>
      `rounds (ours/raw msg/s): ${oursRounds.map((o, i) => `${fmt(o)}/${fmt(raw[i] ?? 0)}`).join(', ')}`;
    const label = `encode+decode ${c.name} (${ours.length} B)`;
    results.push(
      result(
        `${label} vs msgpackr`,
        median(oursRounds),
        median(packrRounds),
        'msg/s',
        '>= 1.0',
        perRound(packrRounds),
      ),
      result(
        `${label} vs @msgpack/msgpack`,
        median(oursRounds),
        median(msgpackRounds),
        'msg/s',
        '>= 1.5',
        perRound(msgpackRounds),
      ),
    );
  }
  report('codec', results);
  await Promise.resolve();
}
