import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { PortAllocator } from './ports';
import { RawClient } from './rawClient';
import { stopAllServers, liveServers, startedServers, startServerProcess } from './serverProcess';
import type { ServerProcess, ServerProcessOptions } from './serverProcess';

/** One server and one client shared by the tests of a `describe` block. */
export interface ServerHarness {
  /** The running server (throws when read before `beforeAll` has run). */
  readonly server: ServerProcess;
  /** A DEALER connected to it. */
  readonly client: RawClient;
}

/**
 * Registers hooks that start one server (with `options`, on two ports from the file's
 * `ports`: command and PUB) and one client before the tests of the enclosing block and stop
 * both after them. When a test fails, the stderr of every server this file started is
 * printed, so a failure carries the server's own account.
 */
export function useServerHarness(
  ports: PortAllocator,
  options: Omit<ServerProcessOptions, 'port' | 'pubPort'> = {},
): ServerHarness {
  let server: ServerProcess | null = null;
  let client: RawClient | null = null;
  beforeAll(async () => {
    server = await startServerProcess({ ...options, port: await ports.next(), pubPort: await ports.next() });
    client = RawClient.connect(server.bind, server.curve);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });
  printServerLogsOnFailure();
  return {
    get server(): ServerProcess {
      if (server === null) throw new Error('server not started (beforeAll failed?)');
      return server;
    },
    get client(): RawClient {
      if (client === null) throw new Error('client not connected (beforeAll failed?)');
      return client;
    },
  };
}

/**
 * Prints the diagnostics of the servers a failing test used (those running when it began and
 * those it started), and
 * stops (SIGTERM) any server still running after the block.
 */
export function printServerLogsOnFailure(): void {
  beforeEach((ctx) => {
    const running = liveServers();
    const before = startedServers().length;
    ctx.onTestFailed(() => {
      const servers = new Set([...running, ...startedServers().slice(before)]);
      for (const server of servers) console.error(server.diagnostics());
    });
  });
  afterAll(async () => {
    await stopAllServers();
  });
}
