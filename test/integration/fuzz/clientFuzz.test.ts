/**
 * Issue 11.9, the short version of `npm run fuzz -- client`: a real console core against a fake
 * server that answers with fuzzed replies and publishes fuzzed events, ~7 s per mode. The core
 * must never throw out of its loops (no uncaught exception or unhandled rejection, operations
 * fail only with the errors they document), its connection's receive loop must not end, and
 * once the server turns honest it must answer a health check and deliver status and log events.
 * A failure prints the seed: `npm run fuzz -- client --mode <mode> --seed <seed>` replays it.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as zmq from 'zeromq';
import { runClientFuzz } from '../../../fuzz/clientFuzz';
import { randomSeed } from '../../../fuzz/prng';
import { openConsoleCore } from '../../../main/core/services/consoleCore';
import { healthReply } from '../../helpers/healthReply';
import { PortAllocator } from '../../helpers/ports';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { createTempDir } from '../../helpers/tempDir';
import { addPlainServer } from '../client/clientKit';

const ports = new PortAllocator(20500, 20699);
const routers: zmq.Router[] = [];

afterAll(() => {
  for (const r of routers) r.close();
});

describe('fuzzing the console core', () => {
  it.each(['curve', 'insecure'] as const)(
    '%s: ~7 s of fuzzed replies and events, no violation',
    async (mode) => {
      const seed = randomSeed();
      const report = await runClientFuzz({
        mode,
        seed,
        durationMs: 7_000,
        ports,
        malformedPubEndpoints: true,
      });
      const replay = `replay: npm run fuzz -- client --mode ${mode} --seed ${seed}`;
      expect(report.violations, replay).toEqual([]);
      expect(report.frames, replay).toBeGreaterThan(500);
      expect(report.requests, replay).toBeGreaterThan(100);
      expect(report.finalHealthMs, replay).not.toBeNull();
    },
    90_000,
  );

  // A hostile server's health reply may advertise a pub_endpoint libzmq refuses. It once made
  // EventSubscriber.connect throw inside the Connection's change listener, which ended the
  // receive loop while PUB heartbeats kept the server looking online.
  it('a health reply advertising an unconnectable pub_endpoint does not stop the console hearing replies', async () => {
    const port = await ports.next();
    let advertised = 'garbage';
    routers.push(
      await startScriptedRouter(port, async (req, send) => {
        if (req.type === 'health_check_request') {
          const metadata = {
            server_id: 'bad-pub',
            pub_endpoint: advertised,
            capabilities: 'batch,output_query',
          };
          advertised = 'tcp://127.0.0.1:1'; // only the first reply is bad
          await send(healthReply(req, metadata));
        } else if (req.type === 'list_agents_request') {
          await send({
            type: 'list_agents_response',
            request_id: req.request_id,
            success: true,
            agents: [],
            error: null,
          });
        }
      }),
    );
    const temp = await createTempDir('descartes-bad-pub-');
    const core = openConsoleCore({ dataDir: join(temp.path, 'console'), requestTimeoutMs: 1000 });
    try {
      const sid = await addPlainServer(core, port, 5000);
      const list = await core.service.listAgents(sid);
      expect(list.success).toBe(true);
    } finally {
      await core.dispose();
      await temp.remove();
    }
  }, 30_000);
});
