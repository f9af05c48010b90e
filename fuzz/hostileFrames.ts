/**
 * Hand-made hostile frames of a chosen size: deep nesting, length prefixes that lie, and values
 * that are cheap on the wire but dear once decoded (empty arrays, one-key objects with fresh keys,
 * millions of tiny elements). The codec tests, the decode probe and the fuzzers share them.
 *
 * Every frame is a message prefix (a real tag and request id, so the server's salvage path has
 * something to read) followed by a filler that makes up the rest of `size` bytes.
 */
import { MsgpackWriter } from './msgpackWriter';

/** Which decoder a frame is aimed at: the server's (requests) or the console's (replies, events). */
export type HostileSide = 'request' | 'reply' | 'event';

export interface HostileCase {
  /** Short unique name, shown in reports. */
  readonly name: string;
  readonly side: HostileSide;
  /** True when the frame is a well-formed message (it may still be refused for its density). */
  readonly wellFormed: boolean;
  /**
   * Builds the frame: about `size` bytes (never more), at least a few dozen.
   * @param size target length in bytes (the fuzzers use up to 10 MiB)
   */
  build(size: number): Uint8Array;
}

/** The request id every hostile frame carries (the salvage path must read it back). */
export const HOSTILE_REQUEST_ID = '6b0c7a52-33d4-4c1e-9f0a-2d2b8e1f4c11';
const AGENT_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** Bytes a filler may not use: room for the header of a count and a trailing field. */
const SLACK = 16;

/** Writes a message prefix whose last element is the filler's value. */
type Prefix = (w: MsgpackWriter) => void;

/** custom_action_request with `params` last: a JSON value the server decodes. */
const customActionParams: Prefix = (w) => {
  w.array(5).str('custom_action_request').str(HOSTILE_REQUEST_ID).uuid(AGENT_ID).str('echo');
};

/** command_response with `data` then `error`: a JSON value the console decodes. */
const commandResponseData: Prefix = (w) => {
  w.array(6).str('command_response').str(HOSTILE_REQUEST_ID).uuid(AGENT_ID).bool(true).nil();
};

/** A map-form health check with an unknown key `x` last: its value is skipped, not built. */
const unknownField: Prefix = (w) => {
  w.map(3).str('type').str('health_check_request').str('request_id').str(HOSTILE_REQUEST_ID).str('x');
};

/** A JSON value filling `room` bytes. */
type JsonFiller = (w: MsgpackWriter, room: number) => void;

/** Writes key `i` as a fixstr of four lowercase letters (26^4 = 456 976 distinct keys) at `at`. */
function key4(buf: Uint8Array, at: number, i: number): void {
  buf[at] = 0xa4;
  buf[at + 1] = 0x61 + (i % 26);
  buf[at + 2] = 0x61 + (Math.floor(i / 26) % 26);
  buf[at + 3] = 0x61 + (Math.floor(i / 676) % 26);
  buf[at + 4] = 0x61 + (Math.floor(i / 17576) % 26);
}

/** Writes `n` elements of `stride` bytes each with `write(buf, at, i)`, in one span. */
function each(
  w: MsgpackWriter,
  n: number,
  stride: number,
  write: (buf: Uint8Array, at: number, i: number) => void,
): void {
  const { buf, at } = w.span(n * stride);
  for (let i = 0; i < n; i++) write(buf, at + i * stride, i);
}

/**
 * A value whose 32-bit prefix (after `marker`, and the ext type byte `extType` when given)
 * claims 4 G elements or bytes, followed by `fill` bytes up to `room`.
 */
function hugeClaim(marker: number, fill: number, extType?: number): JsonFiller {
  return (w, room) => {
    w.byte(marker).be(0xffffffff, 4);
    if (extType === undefined) w.repeat(fill, room - 5);
    else w.byte(extType).repeat(fill, room - 6);
  };
}

const JSON_FILLERS: Record<string, JsonFiller> = {
  /** `[[[[…0]]]]`: one array per byte. */
  'deep-arrays': (w, room) => w.repeat(0x91, room - 1).byte(0),
  /** `{{{{…`: maps whose key is a map (the frame that took the old salvage path to 1.5 GB). */
  'deep-map-keys': (w, room) => w.repeat(0x81, room),
  /** `{"k":{"k":{…}}}`: maps nested in values. */
  'deep-map-values': (w, room) => w.pattern([0x81, 0xa1, 0x6b], Math.floor((room - 1) / 3)).byte(0),
  /** Arrays and maps alternating, each claiming 4 G elements. */
  'deep-huge-claims': (w, room) =>
    w.pattern([0xdd, 0xff, 0xff, 0xff, 0xff, 0xdf, 0xff, 0xff, 0xff, 0xff], Math.floor(room / 10)),
  /** Nested arrays each claiming exactly the bytes left (every count passes a bytes-left check). */
  'nested-claims-bytes-left': (w, room) => {
    let left = room;
    while (left > 5) {
      left -= 5;
      w.byte(0xdd).be(left, 4);
    }
    w.repeat(0, left);
  },
  /** One array claiming 4 G elements, then zeros; likewise a map, a str, a bin and an ext. */
  'huge-array-claim': hugeClaim(0xdd, 0),
  'huge-map-claim': hugeClaim(0xdf, 0),
  'huge-str-claim': hugeClaim(0xdb, 0x61),
  'huge-bin-claim': hugeClaim(0xc6, 0),
  'huge-ext-claim': hugeClaim(0xc9, 0, 1),
  /** `[[],[],…]`: 1 byte each on the wire, a JS array each once decoded. */
  'empty-arrays': (w, room) => w.array(room - 5, true).repeat(0x90, room - 5),
  'empty-maps': (w, room) => w.array(room - 5, true).repeat(0x80, room - 5),
  /** `[[0],[0],…]`: push()-grown arrays kept 17 slots each. */
  singletons: (w, room) => {
    const n = Math.floor((room - 5) / 2);
    w.array(n, true).pattern([0x91, 0], n);
  },
  fixints: (w, room) => w.array(room - 5, true).repeat(0x01, room - 5),
  nils: (w, room) => w.array(room - 5, true).repeat(0xc0, room - 5),
  /** Float64s: a boxed number each once decoded. */
  floats: (w, room) => {
    const n = Math.floor((room - 5) / 9);
    w.array(n, true).pattern([0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], n);
  },
  'short-strings': (w, room) => {
    const n = Math.floor((room - 5) / 3);
    w.array(n, true);
    each(w, n, 3, (buf, at, i) => {
      buf[at] = 0xa2;
      buf[at + 1] = 0x41 + (i % 26);
      buf[at + 2] = 0x41 + (Math.floor(i / 26) % 26);
    });
  },
  /** Two-byte UTF-8 strings (`"é"`): the non-ASCII path of string checks. */
  'short-utf8-strings': (w, room) => {
    const n = Math.floor((room - 5) / 3);
    w.array(n, true).pattern([0xa2, 0xc3, 0xa9], n);
  },
  'long-string': (w, room) => w.strHeader(room - 5).repeat(0x61, room - 5),
  /** One map with hundreds of thousands of distinct 4-letter keys. */
  'many-keys-one-map': (w, room) => {
    const n = Math.min(Math.floor((room - 5) / 6), 456_976);
    w.map(n, true);
    each(w, n, 6, (buf, at, i) => {
      key4(buf, at, i);
      buf[at + 5] = 0;
    });
  },
  /** `[{"aaaa":0},{"baaa":0},…]`: every object a new hidden class. */
  'distinct-key-objects': (w, room) => {
    const n = Math.min(Math.floor((room - 5) / 7), 456_976);
    w.array(n, true);
    each(w, n, 7, (buf, at, i) => {
      buf[at] = 0x81;
      key4(buf, at + 1, i);
      buf[at + 6] = 0;
    });
  },
  /** Two-key objects whose key pairs never repeat: a new hidden class per object from 300 + n/300 keys. */
  'unique-pair-objects': (w, room) => {
    const n = Math.floor((room - 5) / 13);
    w.array(n, true);
    each(w, n, 13, (buf, at, i) => {
      buf[at] = 0x82;
      key4(buf, at + 1, i % 300);
      buf[at + 6] = 0;
      key4(buf, at + 7, 300 + Math.floor(i / 300));
      buf[at + 12] = 1;
    });
  },
  /** `[2^64-1, 2^64-2, …]`: integers beyond 2^53, each a BigInt to make. */
  'big-u64s': (w, room) => {
    const n = Math.floor((room - 5) / 9);
    w.array(n, true);
    each(w, n, 9, (buf, at, i) => {
      buf.set([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, (i >>> 8) & 0xff, i & 0xff], at);
    });
  },
  /** `[-2^63+1, …]`: negative integers beyond 2^53. */
  'big-i64s': (w, room) => {
    const n = Math.floor((room - 5) / 9);
    w.array(n, true);
    each(w, n, 9, (buf, at, i) => {
      buf.set([0xd3, 0x80, 0, 0, 0, 0, 0, (i >>> 8) & 0xff, (i & 0xff) | 1], at);
    });
  },
  /** `[{"id":i,"v":1},…]`: records that share their keys, the realistic dense shape. */
  'same-key-records': (w, room) => {
    const n = Math.floor((room - 5) / 8);
    w.array(n, true);
    each(w, n, 8, (buf, at, i) => {
      buf.set([0x82, 0xa2, 0x69, 0x64, i & 0x7f, 0xa1, 0x76, 1], at);
    });
  },
};

function fill(prefix: Prefix, filler: JsonFiller): (size: number) => Uint8Array {
  return (size) => {
    const w = new MsgpackWriter(Math.max(256, size));
    prefix(w);
    filler(w, Math.max(SLACK, size - w.length - SLACK));
    return w.bytes();
  };
}

/** batch_control_command with `count` agent ids (bin16 each) then `stop`. */
function batchOfUuids(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.array(4).str('batch_control_command').str(HOSTILE_REQUEST_ID);
  const n = Math.max(1, Math.floor((size - w.length - SLACK) / 18));
  w.array(n, true);
  const id = [
    0xc4, 16, 0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f, 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e,
  ];
  each(w, n, 18, (buf, at, i) => {
    buf.set(id, at);
    buf[at + 17] = i & 0xff; // every agent id different
    buf[at + 16] = (i >>> 8) & 0xff;
    buf[at + 15] = (i >>> 16) & 0xff;
  });
  w.str('stop');
  return w.bytes();
}

/** spawn_request whose config.environment has as many distinct keys as fit. */
function spawnEnvironment(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.array(3).str('spawn_request').str(HOSTILE_REQUEST_ID);
  w.array(6).str('env').str('shell').str('true').nil().nil();
  const n = Math.min(Math.floor((size - w.length - SLACK) / 7), 456_976);
  w.map(n, true);
  each(w, n, 7, (buf, at, i) => {
    key4(buf, at, i);
    buf[at + 5] = 0xa1;
    buf[at + 6] = 0x78;
  });
  return w.bytes();
}

/** A top-level map whose first entry is `junk` (deep nesting), then `type` and `request_id`. */
function mapFormJunkFirst(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.map(3).str('junk');
  const room = Math.max(SLACK, size - w.length - 128);
  w.repeat(0x91, room - 1).byte(0);
  w.str('type').str('health_check_request').str('request_id').str(HOSTILE_REQUEST_ID);
  return w.bytes();
}

/** list_agents_response with as many agents as fit (a legitimate shape, very big). */
function manyAgents(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.array(5).str('list_agents_response').str(HOSTILE_REQUEST_ID).bool(true);
  const one = new MsgpackWriter();
  one.array(9).uuid(AGENT_ID).str('worker').str('running').str('shell');
  one.array(2).uint(1_764_000_000).uint(123_456_789).str('sleep 1000').nil().nil().nil();
  const agent = one.bytes();
  const n = Math.max(1, Math.floor((size - w.length - SLACK) / agent.length));
  w.array(n, true);
  each(w, n, agent.length, (buf, at, i) => {
    buf.set(agent, at);
    buf[at + 18] = i & 0xff; // the last byte of the uuid: every agent its own id
    buf[at + 17] = (i >>> 8) & 0xff;
  });
  w.nil();
  return w.bytes();
}

/** output_query_response with as many short lines as fit. */
function manyLines(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.array(8).str('output_query_response').str(HOSTILE_REQUEST_ID).uuid(AGENT_ID).bool(true);
  const n = Math.max(1, Math.floor((size - w.length - SLACK) / 9));
  w.array(n, true);
  each(w, n, 9, (buf, at, i) => {
    buf.set(
      [0xa8, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x30 + (i % 10), 0x30 + (Math.floor(i / 10) % 10), 0x2e],
      at,
    );
  });
  w.uint(n).bool(false).nil();
  return w.bytes();
}

/** log_stream whose data is as many bytes as fit (fixints: a legitimate shape). */
function bigLogChunk(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.array(6).str('log_stream').uuid(AGENT_ID).str('stdout');
  const n = Math.max(1, size - w.length - SLACK);
  w.array(n, true).repeat(0x41, n);
  w.array(2).uint(1_764_000_000).uint(0).uint(1);
  return w.bytes();
}

/** status_update whose `data` is nested as deep as the frame allows. */
function deepStatusData(size: number): Uint8Array {
  const w = new MsgpackWriter(Math.max(256, size));
  w.array(7).str('status_update').uuid(AGENT_ID).str('status_changed').nil().nil();
  const room = Math.max(SLACK, size - w.length - SLACK);
  w.repeat(0x91, room - 1).byte(0);
  w.array(2).uint(1).uint(0);
  return w.bytes();
}

/**
 * Every hostile case: each JSON filler as a request (params), a reply (data) and an unknown
 * field the decoder skips (`skip/…`), and the rest.
 */
export const HOSTILE_CASES: readonly HostileCase[] = [
  ...Object.entries(JSON_FILLERS).flatMap(([name, filler]): HostileCase[] => {
    const wellFormed = !name.startsWith('deep-') && !name.startsWith('huge-') && !name.startsWith('nested-');
    return [
      { name: `request/${name}`, side: 'request', wellFormed, build: fill(customActionParams, filler) },
      { name: `reply/${name}`, side: 'reply', wellFormed, build: fill(commandResponseData, filler) },
      { name: `skip/${name}`, side: 'request', wellFormed, build: fill(unknownField, filler) },
    ];
  }),
  { name: 'request/batch-many-uuids', side: 'request', wellFormed: true, build: batchOfUuids },
  { name: 'request/spawn-environment-keys', side: 'request', wellFormed: true, build: spawnEnvironment },
  { name: 'request/map-form-junk-first', side: 'request', wellFormed: false, build: mapFormJunkFirst },
  { name: 'reply/list-many-agents', side: 'reply', wellFormed: true, build: manyAgents },
  { name: 'reply/output-many-lines', side: 'reply', wellFormed: true, build: manyLines },
  { name: 'event/log-big-chunk', side: 'event', wellFormed: true, build: bigLogChunk },
  { name: 'event/status-deep-data', side: 'event', wellFormed: false, build: deepStatusData },
];

/** The case called `name`. @throws Error when there is none */
export function hostileCase(name: string): HostileCase {
  const found = HOSTILE_CASES.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no hostile case ${name}`);
  return found;
}
