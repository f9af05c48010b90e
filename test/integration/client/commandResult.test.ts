/**
 * One result mapping and one timeout rule (shared/domain/result, shared/domain/replyTimeout):
 * a command still on the wire when its caller stops waiting is `unknown` (it may have run),
 * through the service and through `ctl --queue` alike, and the service waits for a batch as long
 * as the dispatcher's reply timeout for it.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { QueuedCommand } from '../../../shared/domain/command';
import { replyTimeoutMs } from '../../../shared/domain/replyTimeout';
import type { CommandResult } from '../../../shared/domain/result';
import type { RequestMessage, ReplyMessage } from '../../../shared/protocol';
import { PortAllocator } from '../../helpers/ports';
import { healthReply } from '../../helpers/healthReply';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { waitUntil } from '../../helpers/wait';
import { addPlainServer, runCtlProcess, startRustLikeRouter, useTestBed } from './clientKit';

const ports = new PortAllocator(25700, 25799);
/** The service's margin over a command's reply timeout (agentControlService WAIT_MARGIN_MS). */
const WAIT_MARGIN_MS = 10_000;

const bed = useTestBed('descartes-result-');

/**
 * A ROUTER that says it is a current server without dedupe (so nothing is resent), answers
 * health checks only, and closes (the connection is lost) when a batch arrives.
 */
async function vanishingServer(port: number, received: RequestMessage[]): Promise<void> {
  const router = await startScriptedRouter(port, async (req, send) => {
    received.push(req);
    if (req.type === 'health_check_request') {
      await send(healthReply(req, { capabilities: 'batch,custom_action,output_query' }));
    } else if (req.type === 'batch_control_command') {
      router.close();
    }
  });
  bed.adopt(router);
}

describe('a command on the wire when the caller stops waiting', () => {
  it('service: a batch cut off on the wire is unknown (not queued) once the wait the reply-timeout rule gives it ends', async () => {
    const port = await ports.next();
    const received: RequestMessage[] = [];
    await vanishingServer(port, received);
    const requestTimeoutMs = 2000;
    const core = bed.core('service', { requestTimeoutMs });
    const sid = await addPlainServer(core, port);

    const result = await core.service.batchControl(sid, [randomUUID(), randomUUID()], 'pause');
    const batch = received.find((r) => r.type === 'batch_control_command');
    expect(batch).toBeDefined();
    if (batch === undefined) return;
    // The connection dropped with the batch on the wire: nobody knows whether it ran.
    expect(result.status).toBe('unknown');
    expect(result.command.state).toBe('sending');
    const waitedMs = replyTimeoutMs(batch, requestTimeoutMs) + WAIT_MARGIN_MS;
    expect(waitedMs).toBe(2 * requestTimeoutMs + WAIT_MARGIN_MS);
    if (result.status === 'unknown') expect(result.reason).toContain(`within ${waitedMs / 1000} s`);
  }, 45_000);

  it('ctl --queue: a command without a reply within --wait is unknown (exit 4), like through the service', async () => {
    const port = await ports.next();
    const received: RequestMessage[] = [];
    // Answers health checks; never answers the stop.
    bed.adopt(await startRustLikeRouter(port, received, () => null));
    const dataDir = bed.path('ctl');
    const agent = randomUUID();
    const run = await runCtlProcess(
      ['control', agent, 'stop', '--queue', '--server', `tcp://127.0.0.1:${port}`, '--wait', '1'],
      dataDir,
    );
    expect(run.code, run.stderr).toBe(4);
    const result = run.json<CommandResult<ReplyMessage> & { command: QueuedCommand }>();
    expect(result.status).toBe('unknown');
    expect(result.command.state).toBe('sending');
    if (result.status === 'unknown') expect(result.reason).toMatch(/no reply within --wait 1 s/);
    expect(run.stderr).toMatch(/outcome of .* unknown/);
    await waitUntil(() => received.find((r) => r.type === 'control_command'));
  });
});

describe('ctl checks its input with the GUI schemas', () => {
  it('refuses an environment name the GUI refuses (exit 2), naming it; nothing is queued', async () => {
    const dataDir = bed.path('ctl-env');
    const port = await ports.next();
    const run = await runCtlProcess(
      [
        'spawn',
        '--backend',
        'node',
        '--task',
        'x',
        '--env',
        'BAD-NAME=1',
        '--queue',
        '--server',
        `tcp://127.0.0.1:${port}`,
      ],
      dataDir,
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('ctl: --env BAD-NAME: environment names are letters, digits and _\n');
    // Refused before anything was opened: no queue was even created.
    expect(existsSync(dataDir)).toBe(false);
  });
});
