import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { INTERRUPTED_TRIES, retryInterrupted, socketEvents } from '../../../../shared/node/retryInterrupted';

const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code} from the call`), { code });

describe('retryInterrupted', () => {
  it('tries again after EINTR and returns what the call then returns', () => {
    let calls = 0;
    const value = retryInterrupted(() => {
      calls++;
      if (calls < 3) throw errno('EINTR');
      return 'done';
    });
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('throws any other error at once, and a code in alsoRetry only when it was asked for', () => {
    let calls = 0;
    const inUse = (): never => {
      calls++;
      throw errno('EADDRINUSE');
    };
    expect(() => retryInterrupted(inUse)).toThrow('EADDRINUSE from the call');
    expect(calls).toBe(1);
    calls = 0;
    expect(() => retryInterrupted(inUse, ['EADDRINUSE'])).toThrow('EADDRINUSE from the call');
    expect(calls).toBe(INTERRUPTED_TRIES);
  });

  it('gives up after INTERRUPTED_TRIES, throwing the last EINTR', () => {
    let calls = 0;
    expect(() =>
      retryInterrupted(() => {
        calls++;
        throw errno('EINTR');
      }),
    ).toThrow('EINTR from the call');
    expect(calls).toBe(INTERRUPTED_TRIES);
  });
});

describe('zeromq calls under a storm of signals', () => {
  let storm: ChildProcess | null = null;
  const ignore = (): void => undefined;

  afterEach(() => {
    storm?.kill('SIGKILL');
    storm = null;
    process.off('SIGUSR2', ignore);
  });

  // Without the retries about one socket in four failed here (EINTR from connect or the
  // monitor, EADDRINUSE from a monitor after an interrupted one).
  it('a socket gets its monitor and connects every time, and the monitor reports', async () => {
    process.on('SIGUSR2', ignore);
    // A bash builtin in a loop: thousands of signals a second, until this process is gone.
    storm = spawn('bash', ['-c', `while kill -USR2 ${process.pid} 2>/dev/null; do :; done`], {
      stdio: 'ignore',
    });
    await delay(100);
    const failures: string[] = [];
    const reports = new Map<string, number>();
    // Three sockets each (ours, its monitor, libzmq's end of it) within libzmq's 1023 per context.
    for (let i = 0; i < 150; i++) {
      const socket = new zmq.Dealer({ linger: 0 });
      try {
        const events = socketEvents(socket);
        retryInterrupted(() => {
          socket.connect('tcp://127.0.0.1:9');
        });
        // Still under the storm: the monitor reports the connect attempt, as the console reads it.
        const seen = await Promise.race([
          events.receive().then((e) => e.type),
          delay(3000).then(() => 'nothing within 3 s'),
        ]);
        reports.set(seen, (reports.get(seen) ?? 0) + 1);
        events.close();
      } catch (error) {
        failures.push(String(error));
      }
      socket.close();
    }
    expect(failures).toEqual([]);
    expect([...reports]).toEqual([['connect:delay', 150]]);
  }, 20_000);
});
