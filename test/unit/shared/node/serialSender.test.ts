import { describe, expect, it } from 'vitest';
import {
  SenderRefusedError,
  SerialSender,
  type Frame,
  type Sendable,
} from '../../../../shared/node/serialSender';

/** A socket stand-in that, like zeromq.js, refuses a second send while one is pending. */
class StrictSocket implements Sendable {
  busy = false;
  sent: string[] = [];
  constructor(private readonly holdMs = 0) {}
  async send(frames: Frame[]): Promise<void> {
    if (this.busy) throw new Error('EBUSY: socket is busy writing');
    this.busy = true;
    await new Promise((r) => setTimeout(r, this.holdMs));
    this.sent.push(String(frames[0]));
    this.busy = false;
  }
}

const asFrames = (s: string): Frame[] => [s];
const failures = (): { list: [string, string][]; onFailed: (error: unknown, item: string) => void } => {
  const list: [string, string][] = [];
  return {
    list,
    onFailed: (error, item) => {
      list.push([item, (error as Error).message]);
    },
  };
};

describe('SerialSender', () => {
  it('serialises concurrent posts in FIFO order (no EBUSY) and reports idle once all left', async () => {
    const socket = new StrictSocket(1);
    const sender = new SerialSender<string>(socket, asFrames);
    const f = failures();
    for (let i = 0; i < 50; i++) expect(sender.post(`m${i}`, f.onFailed)).toBeNull();
    await sender.idle();
    expect(socket.sent).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(f.list).toEqual([]);
    await expect(sender.idle()).resolves.toBeUndefined();
  });

  it('refuses items beyond its bound at once, without calling onFailed', async () => {
    const socket = new StrictSocket(20);
    const sender = new SerialSender<string>(socket, asFrames, 2);
    const f = failures();
    // 'a' is being written; 'b' and 'c' wait; 'd' is one too many.
    for (const s of ['a', 'b', 'c']) expect(sender.post(s, f.onFailed)).toBeNull();
    const refused = sender.post('d', f.onFailed);
    expect(refused).toBeInstanceOf(SenderRefusedError);
    expect(refused?.code).toBe('full');
    expect(refused?.message).toMatch(/send queue full \(2 messages waiting\)/);
    await sender.idle();
    expect(socket.sent).toEqual(['a', 'b', 'c']);
    expect(f.list).toEqual([]);
  });

  it('takes a tighter limit per item (the publisher bounds two kinds of item on one socket)', () => {
    const sender = new SerialSender<string>(new StrictSocket(20), asFrames);
    const f = failures();
    expect(sender.post('a', f.onFailed, 1)).toBeNull(); // taken by the drain loop at once
    expect(sender.post('b', f.onFailed, 1)).toBeNull();
    expect(sender.post('c', f.onFailed, 1)?.code).toBe('full');
    expect(sender.post('c', f.onFailed)).toBeNull();
    sender.close();
  });

  it('encodes an item only when its turn comes: a refused or closed-out item costs no encoding', async () => {
    const encoded: string[] = [];
    const sender = new SerialSender<string>(
      new StrictSocket(20),
      (s) => {
        encoded.push(s);
        return [s];
      },
      1,
    );
    const f = failures();
    sender.post('a', f.onFailed);
    sender.post('b', f.onFailed);
    sender.post('c', f.onFailed); // refused: full
    sender.close(); // 'b' never leaves
    await sender.idle();
    expect(encoded).toEqual(['a']);
    expect(f.list).toEqual([['b', 'socket closed before the message was sent']]);
  });

  it("passes the socket's or the encoder's error with its item to onFailed and keeps going", async () => {
    let n = 0;
    const socket = new StrictSocket(1);
    const sender = new SerialSender<string>(
      { send: (frames) => (++n === 2 ? Promise.reject(new Error('EHOSTUNREACH')) : socket.send(frames)) },
      (s) => {
        if (s === 'bad') throw new Error('cannot encode');
        return [s];
      },
    );
    const f = failures();
    for (const s of ['a', 'b', 'bad', 'c']) sender.post(s, f.onFailed);
    await sender.idle();
    expect(socket.sent).toEqual(['a', 'c']);
    expect(f.list).toEqual([
      ['b', 'EHOSTUNREACH'],
      ['bad', 'cannot encode'],
    ]);
  });

  it('close fails what waits (not what the socket already has) and refuses later items', async () => {
    const socket = new StrictSocket(20);
    const sender = new SerialSender<string>(socket, asFrames);
    const f = failures();
    sender.post('x', f.onFailed);
    sender.post('y', f.onFailed);
    sender.close();
    sender.close();
    // 'x' is already in the socket's hands: only 'y' fails, and 'x' is never reported.
    expect(f.list).toEqual([['y', 'socket closed before the message was sent']]);
    await sender.idle();
    expect(socket.sent).toEqual(['x']);
    expect(f.list).toHaveLength(1);
    expect(sender.post('z', f.onFailed)?.code).toBe('closed');
    expect(sender.pending).toBe(0);
  });
});
