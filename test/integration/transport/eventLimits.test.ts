/**
 * What one server's event socket can make the console hold (main/core/transport/eventSubscriber.ts):
 * a frame over MAX_EVENT_BYTES is never delivered and the events after it still are, while a
 * full-size log chunk of our server (64 KiB of data) passes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { EventSubscriber, MAX_EVENT_BYTES, type LogGap } from '../../../main/core/transport/eventSubscriber';
import { logEventFrame, statusEventFrame } from '../../helpers/eventFrames';
import { PortAllocator } from '../../helpers/ports';
import { sleep, waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(24950, 24969);
const AGENT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const statusFrame = (message: string): Buffer => statusEventFrame(AGENT, message);
const logFrame = (sequence: number): Buffer =>
  logEventFrame(AGENT, sequence, new Uint8Array(64 * 1024).fill(0x61));

describe('event size and queue limits', () => {
  it('drops an event over the limit, keeps delivering the ones after it, and passes a 64 KiB log chunk', async () => {
    const pub = new zmq.Publisher({ linger: 0 });
    const endpoint = `tcp://127.0.0.1:${await ports.next()}`;
    await pub.bind(endpoint);
    cleanups.push(() => {
      pub.close();
    });
    const events = new EventSubscriber({ curve: null });
    cleanups.push(() => {
      events.close();
    });
    const seen: string[] = [];
    events.onStatus((u) => seen.push(u.message ?? ''));
    const chunks: { sequence: number; bytes: number }[] = [];
    const gaps: LogGap[] = [];
    events.tail(AGENT, {
      onChunk: (chunk) => chunks.push({ sequence: Number(chunk.sequence), bytes: chunk.data.length }),
      onGap: (gap) => gaps.push(gap),
    });
    events.connect(endpoint);
    // PUB drops what it sends before the subscription arrives: until the first chunk is seen.
    await waitUntil(
      async () => {
        await pub.send(logFrame(1));
        await sleep(20);
        return chunks.length > 0 ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'the first log chunk' },
    );
    expect(chunks[0]).toEqual({ sequence: 1, bytes: 64 * 1024 });

    // libzmq drops the connection on a frame over maxMessageSize and, on that protocol error,
    // never makes it again: the subscriber must replace the socket itself.
    await pub.send(statusFrame('S'.repeat(MAX_EVENT_BYTES)));
    await waitUntil(
      async () => {
        await pub.send(statusFrame('after'));
        await pub.send(logFrame(5));
        await sleep(50);
        return seen.includes('after') && chunks.some((c) => c.sequence === 5) ? true : undefined;
      },
      { timeoutMs: 15_000, what: 'events after the refused one' },
    );
    expect(seen.some((m) => m.length >= MAX_EVENT_BYTES)).toBe(false);
    // The same server: sequences carry over the new socket, so what was lost shows as a gap.
    expect(gaps[0]).toEqual({ agentId: AGENT, expected: 2, received: 5 });
  }, 30_000);
});
