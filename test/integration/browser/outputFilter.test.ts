/**
 * One filter, one meaning: the renderer's output store, on its real API (the browser client of
 * a real host, core and agent server), shows the same lines for a filter whether they came in
 * through the live tail or through a paged query the server filtered.
 */
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installApi } from '../../../renderer/src/api';
import { createBrowserClient, type BrowserClient } from '../../../renderer/src/api/browserClient';
import { useOutputStore } from '../../../renderer/src/stores/output';
import type { ConsoleEvents } from '../../../shared/ipc';
import { fixtureAgent } from '../../helpers/agents';
import { PortAllocator } from '../../helpers/ports';
import { waitUntil } from '../../helpers/wait';
import { startRig, webSocketWithOrigin, type HostRig } from './hostKit';

const ports = new PortAllocator(25600, 25699);

/** What the agent echoes (as `stdin: <line>`) in every round. */
const LINES = [
  'ERROR: disk full',
  'an error (retry 2)',
  'Error.log rotated',
  'path /error/i literally',
  'all good',
  'a.b matched',
  'aXb matched',
  'count [3] of (7)',
];

/** A flagged literal, a plain pattern, regex metacharacters, and a literal without flags. */
const FILTERS = ['/error/i', 'error', 'a\\.b|\\(7\\)$', '/^stdin: [A-Z]/'];

let rig: HostRig;
let api: BrowserClient;
let agentId: string;
const chunks: ConsoleEvents['logs'][] = [];
const backfills: ConsoleEvents['backfill'][] = [];

beforeAll(async () => {
  const port = await ports.next();
  await ports.next();
  rig = await startRig(port, await ports.next());
  api = createBrowserClient(`ws://127.0.0.1:${rig.host.port}/ws`, rig.host.token, {
    WebSocketImpl: webSocketWithOrigin(rig.host.origin),
  });
  installApi(api);
  setActivePinia(createPinia());
  const spawned = await rig.core.service.spawnAgent(rig.serverId, {
    ...fixtureAgent('action-agent.js'),
    name: 'filter-agent',
  });
  if (spawned.status !== 'done' || !spawned.reply.success) throw new Error(JSON.stringify(spawned));
  agentId = spawned.reply.agent_info?.id ?? '';
});
afterAll(async () => {
  await useOutputStore().close();
  installApi(null);
  api.close();
  await rig.close();
});

/** Makes the agent print `lines` (as `stdin: …`) and waits until the live tail delivered the last. */
async function echo(lines: readonly string[]): Promise<void> {
  const last = `stdin: ${lines.at(-1) ?? ''}\n`;
  const seen = (): true | undefined =>
    chunks.some((p) => p.chunks.some((c) => c.text.includes(last))) ? true : undefined;
  await rig.core.service.writeAgentStdin(rig.serverId, agentId, `${lines.join('\n')}\n`);
  await waitUntil(seen, { what: `the live tail to deliver ${last.trim()}` });
}

/** Every line the store shows now, from its cached pages only (no fetch). */
function shown(): (string | undefined)[] {
  const store = useOutputStore();
  return Array.from({ length: store.total }, (_, i) => store.lineAt(i));
}

describe('the output view with a filter', () => {
  it('keeps the same lines from the live tail as from a paged query, for every filter', async () => {
    const store = useOutputStore();
    await store.open(rig.serverId, agentId);
    expect(store.tailError).toBeNull();
    api.on('logs', (p) => {
      if (p.subscriptionId === store.tailId) chunks.push(p);
    });
    api.on('backfill', (p) => backfills.push(p));
    // The tail's subscription reaches the server's PUB socket asynchronously: probe until live.
    let probe = 0;
    await waitUntil(
      async () => {
        probe++;
        await rig.core.service.writeAgentStdin(rig.serverId, agentId, `probe ${probe}\n`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return chunks.length > 0 ? true : undefined;
      },
      { what: 'the live tail to start', timeoutMs: 20_000 },
    );

    for (const [round, filter] of FILTERS.entries()) {
      expect(await store.applyFilter(filter), filter).toBe(true);
      await store.ensureRange(0, store.total);
      const before = backfills.length;
      await echo([...LINES, `round ${round} done`]);
      // Only the live tail fed the view: a backfill would have re-read it from the server.
      expect(backfills.length, filter).toBe(before);
      const live = shown();

      await store.reload();
      await store.ensureRange(0, store.total);
      const paged = shown();
      expect(paged.length, filter).toBeGreaterThan(0);
      expect(paged, filter).not.toContain(undefined);
      expect(live, `live tail vs paged query for ${filter}`).toEqual(paged);
    }
  });
});
