import { describe, expect, it } from 'vitest';
import { SocketWriter, WriterError, type Sendable } from '../../../../../main/core/transport/socketWriter';

/** A socket stand-in that, like zeromq.js, refuses a second send while one is pending. */
class StrictSocket implements Sendable {
  busy = false;
  sent: string[] = [];
  release: (() => void) | null = null;
  constructor(private readonly holdMs = 0) {}
  async send(frames: Uint8Array[]): Promise<void> {
    if (this.busy) throw new Error('EBUSY: socket is busy writing');
    this.busy = true;
    await new Promise((r) => setTimeout(r, this.holdMs));
    this.sent.push(new TextDecoder().decode(frames[0]));
    this.busy = false;
  }
}

const frame = (s: string): Uint8Array[] => [new TextEncoder().encode(s)];

describe('SocketWriter', () => {
  it('serialises concurrent sends in FIFO order (no EBUSY)', async () => {
    const socket = new StrictSocket(1);
    const writer = new SocketWriter(socket);
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.send(frame(`m${i}`))));
    expect(socket.sent).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it('refuses sends beyond its bound with a clear error', async () => {
    const writer = new SocketWriter(new StrictSocket(20), 2);
    // 'a' is being written; 'b' and 'c' wait; 'd' is one too many.
    const accepted = ['a', 'b', 'c'].map((s) => writer.send(frame(s)));
    await expect(writer.send(frame('d'))).rejects.toThrow(/send queue full \(2 messages waiting\)/);
    await expect(Promise.all(accepted)).resolves.toHaveLength(3);
  });

  it('fails waiting sends on close and refuses later ones', async () => {
    const writer = new SocketWriter(new StrictSocket(20));
    const first = writer.send(frame('a'));
    const waiting = writer.send(frame('b'));
    writer.close();
    await expect(waiting).rejects.toBeInstanceOf(WriterError);
    await expect(writer.send(frame('c'))).rejects.toThrow(/closed/);
    await first;
  });

  it("passes the socket's own error to the caller and keeps going", async () => {
    let n = 0;
    const writer = new SocketWriter({
      send: () => (++n === 1 ? Promise.reject(new Error('EHOSTUNREACH')) : Promise.resolve()),
    });
    await expect(writer.send(frame('a'))).rejects.toThrow('EHOSTUNREACH');
    await expect(writer.send(frame('b'))).resolves.toBeUndefined();
  });

  it('post: queues in the same FIFO without a promise, reports failures with their tag, refuses at once when full or closed', async () => {
    let n = 0;
    const socket = new StrictSocket(1);
    const writer = new SocketWriter(
      {
        send: (frames) => (++n === 2 ? Promise.reject(new Error('EHOSTUNREACH')) : socket.send(frames)),
      },
      3,
    );
    const failed: [string, string][] = [];
    const onFailed = (error: unknown, tag: string): void => {
      failed.push([tag, (error as Error).message]);
    };
    expect(writer.post(frame('a'), onFailed, 'A')).toBeNull();
    expect(writer.post(frame('b'), onFailed, 'B')).toBeNull();
    const last = writer.send(frame('c'));
    expect(writer.post(frame('d'), onFailed, 'D')).toBeNull();
    // 'a' is being written, three wait: one more is refused at once, without calling onFailed.
    const refused = writer.post(frame('e'), onFailed, 'E');
    expect(refused).toBeInstanceOf(WriterError);
    expect(refused?.code).toBe('full');
    await last;
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.sent).toEqual(['a', 'c', 'd']);
    expect(failed).toEqual([['B', 'EHOSTUNREACH']]);

    const slowSocket = new StrictSocket(20);
    const slow = new SocketWriter(slowSocket);
    slow.post(frame('x'), onFailed, 'X');
    slow.post(frame('y'), onFailed, 'Y');
    slow.close();
    // 'x' is already in the socket's hands: only 'y' fails, and 'x' is never reported.
    expect(failed.slice(1)).toEqual([['Y', 'socket closed before the message was sent']]);
    await new Promise((r) => setTimeout(r, 40));
    expect(slowSocket.sent).toEqual(['x']);
    expect(failed.slice(1)).toEqual([['Y', 'socket closed before the message was sent']]);
    expect(slow.post(frame('z'), onFailed, 'Z')?.code).toBe('closed');
  });
});
