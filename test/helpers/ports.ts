import { createServer } from 'node:net';
import { isPortFree } from '../../main/embeddedServer';

// The app's own probe (the embedded server's port choice): tests skip taken ports the same way.
export { isPortFree };

/**
 * Hands out TCP ports from a fixed range, skipping ports something already listens on.
 *
 * Each integration test file owns its own range (below 32768, outside the kernel's ephemeral
 * range, where a reconnecting DEALER could connect to itself), so files never collide.
 */
export class PortAllocator {
  private nextPort: number;

  /**
   * @param first lowest port handed out (inclusive)
   * @param last highest port handed out (inclusive)
   * @throws RangeError when the range is empty or not inside 1024–32767
   */
  constructor(
    private readonly first: number,
    private readonly last: number,
  ) {
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1024 || last > 32767 || first > last) {
      throw new RangeError(`port range ${first}-${last} must be integers inside 1024-32767, first <= last`);
    }
    this.nextPort = first;
  }

  /**
   * The next port of the range that is free on 127.0.0.1 right now. Ports are never handed out
   * twice by one allocator.
   * @throws Error when the range is used up
   */
  async next(): Promise<number> {
    while (this.nextPort <= this.last) {
      const port = this.nextPort++;
      if (await isPortFree(port)) return port;
    }
    throw new Error(`no free port left in ${this.first}-${this.last}`);
  }
}

/**
 * Holds `host:port` with a plain TCP listener until `release()` is called, to test what a
 * program does when its port is taken.
 * @throws Error when the port cannot be bound
 */
export function occupyPort(port: number, host = '127.0.0.1'): Promise<{ release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      resolve({
        release: () =>
          new Promise<void>((done) => {
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}
