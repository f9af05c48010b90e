import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentServer, type AgentServer } from '../../../../server/agentServer';
import { generateCurveKeyPair, type CurveKeyPair } from '../../../../shared/node/curveKeyPair';
import { decodeMessage, encodeMessage } from '../../../../shared/protocol';
import { PortAllocator } from '../../../helpers/ports';
import { healthCheck } from '../../../helpers/requests';
import { createTempDir, type TempDir } from '../../../helpers/tempDir';
import { curveClientOptions } from '../../../helpers/testKeys';

const ports = new PortAllocator(20200, 20299);

/** Whether a DEALER with `keys` gets a health reply from `server` within `timeoutMs`. */
async function answered(server: AgentServer, keys: CurveKeyPair, timeoutMs = 1500): Promise<boolean> {
  const socket = new zmq.Dealer({
    linger: 0,
    receiveTimeout: timeoutMs,
    ...curveClientOptions({ serverKey: server.publicKey ?? '', keyPair: keys }),
  });
  socket.connect(server.bindEndpoint);
  try {
    await socket.send([Buffer.alloc(0), encodeMessage(healthCheck())]);
    const [, body] = await socket.receive();
    return body !== undefined && decodeMessage(body).type === 'health_check_response';
  } catch {
    return false;
  } finally {
    socket.close();
  }
}

describe('one ZAP handler for several servers in one process', () => {
  let tmp: TempDir;
  const alice = generateCurveKeyPair();
  const bob = generateCurveKeyPair();
  let one: AgentServer;
  let two: AgentServer;
  const logs: string[] = [];

  beforeAll(async () => {
    tmp = await createTempDir('descartes-zap-');
    const start = async (name: string, allowed: CurveKeyPair): Promise<AgentServer> =>
      startAgentServer({
        bind: `tcp://127.0.0.1:${await ports.next()}`,
        pub: `tcp://127.0.0.1:${await ports.next()}`,
        stateDir: join(tmp.path, name),
        allowClients: [allowed.publicKey],
        log: (line) => logs.push(`${name}: ${line}`),
      });
    one = await start('one', alice);
    two = await start('two', bob);
  });
  afterAll(async () => {
    await one.close();
    await two.close();
    await tmp.remove();
  });

  it('judges each handshake by the allow list of the server it reached', async () => {
    expect(one.publicKey).not.toBe(two.publicKey);
    expect(await answered(one, alice)).toBe(true);
    expect(await answered(two, bob)).toBe(true);
    expect(await answered(one, bob)).toBe(false);
    expect(await answered(two, alice)).toBe(false);
    expect(one.stats().handshakes_refused).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => l.startsWith('one: refused client key'))).toBe(true);
  });

  it('keeps serving the other server after one closes, and a server started later gets its own verdicts', async () => {
    await one.close();
    expect(await answered(two, bob)).toBe(true);
    const three = await startAgentServer({
      bind: `tcp://127.0.0.1:${await ports.next()}`,
      pub: `tcp://127.0.0.1:${await ports.next()}`,
      stateDir: join(tmp.path, 'three'),
      allowClients: [alice.publicKey],
      log: () => undefined,
    });
    try {
      expect(await answered(three, alice)).toBe(true);
      expect(await answered(three, bob)).toBe(false);
    } finally {
      await three.close();
    }
  });
});
