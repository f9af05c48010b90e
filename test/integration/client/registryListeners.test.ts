/**
 * A status listener that throws must not keep the registry's other listeners from hearing a
 * server's changes (the renderer's status feed sits behind one of them).
 */
import { describe, expect, it, vi } from 'vitest';
import { healthReply } from '../../helpers/healthReply';
import { PortAllocator } from '../../helpers/ports';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { addPlainServer, useTestBed } from './clientKit';

const ports = new PortAllocator(27400, 27499);
const bed = useTestBed('descartes-registry-listeners-');

describe('ServerRegistry status listeners', () => {
  it('reports a throwing listener and still tells the others', async () => {
    const port = await ports.next();
    bed.adopt(
      await startScriptedRouter(port, async (req, send) => {
        if (req.type === 'health_check_request') await send(healthReply(req));
      }),
    );
    const reported = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const core = bed.core('core');
    const heard: string[] = [];
    core.registry.onStatus(() => {
      throw new Error('listener bug');
    });
    core.registry.onStatus((s) => heard.push(s.state));

    await addPlainServer(core, port);

    expect(heard).toContain('online');
    expect(reported.mock.calls.some(([text]) => String(text).includes('a status listener failed'))).toBe(
      true,
    );
    reported.mockRestore();
  });
});
