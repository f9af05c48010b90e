import { describe, expect, it } from 'vitest';
import type { ReplyMessage } from '../../../shared/protocol';
import { PortAllocator } from '../../helpers/ports';
import { healthCheck, listAgents } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(23400, 23599);
const COUNT = 10_000;

describe('agent server: pipelining', () => {
  const h = useServerHarness(ports);

  it(`${COUNT} requests pipelined from one DEALER are all answered, each by its request_id`, async () => {
    const requests = Array.from({ length: COUNT }, (_, i) => (i % 10 === 9 ? listAgents() : healthCheck()));
    const replies = Promise.all(requests.map((r) => h.client.reply(r.request_id, 60_000)));
    const started = performance.now();
    for (const request of requests) await h.client.send(request);
    const all: ReplyMessage[] = await replies;
    const elapsedMs = performance.now() - started;
    expect(all).toHaveLength(COUNT);
    all.forEach((reply, i) => {
      const request = requests[i];
      expect(reply.request_id).toBe(request?.request_id);
      expect(reply.type).toBe(
        request?.type === 'list_agents_request' ? 'list_agents_response' : 'health_check_response',
      );
    });
    expect(new Set(h.client.arrivals).size).toBe(COUNT);
    expect(h.client.violations).toEqual([]);
    console.info(`${COUNT} pipelined requests answered in ${elapsedMs.toFixed(0)} ms`);
  }, 90_000);
});
