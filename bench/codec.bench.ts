/**
 * Codec benchmark (issue 2): encode+decode through our codec against @msgpack/msgpack
 * encoding and decoding the same positional arrays with a reused Encoder/Decoder.
 * ratio = ours / raw throughput; goal ≥ 0.8.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { decodeMessage, encodeMessage, type ZmqMessage } from '../shared/protocol';
import { interleaved, report, result } from './harness';

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

export async function run(): Promise<void> {
  const encoder = new Encoder();
  const decoder = new Decoder();
  const results = cases.map((c) => {
    const ours = encodeMessage(c.message);
    const raw = encoder.encode(c.raw);
    if (ours.length !== raw.length) {
      // Same positional arrays should give the same size; a difference means the bench compares unlike work.
      throw new Error(`${c.name}: our encoding is ${ours.length} bytes, raw is ${raw.length}`);
    }
    const [oursOps, rawOps] = interleaved(
      () => {
        decodeMessage(encodeMessage(c.message));
        return 1;
      },
      () => {
        decoder.decode(encoder.encode(c.raw));
        return 1;
      },
    );
    return result(`encode+decode ${c.name} (${ours.length} B)`, oursOps, rawOps, 'msg/s', '>= 0.8');
  });
  report('codec', results);
  await Promise.resolve();
}
