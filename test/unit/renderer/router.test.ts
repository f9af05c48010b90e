import { describe, expect, it } from 'vitest';
import { createMemoryHistory } from 'vue-router';
import {
  VIEW_ROUTES,
  createConsoleRouter,
  invalidIdReason,
  openedWithoutRoute,
  paramOf,
  viewOf,
} from '../../../renderer/src/router';

const AGENT = '0f8e4c2a-3b1d-4e5f-9a6b-7c8d9e0f1a2b';

function router() {
  return createConsoleRouter(createMemoryHistory());
}

describe('console routes', () => {
  it('parses each view with its server and agent', () => {
    const r = router();
    const cases: [path: string, view: string, server: string | null, agent: string | null][] = [
      ['/servers', 'servers', null, null],
      ['/servers/s1', 'agents', 's1', null],
      [`/servers/s1/agents/${AGENT}`, 'agent', 's1', AGENT],
      ['/queue', 'queue', null, null],
    ];
    for (const [path, view, server, agent] of cases) {
      const to = r.resolve(path);
      expect([viewOf(to), paramOf(to, 'serverId'), paramOf(to, 'agentId')], path).toEqual([
        view,
        server,
        agent,
      ]);
    }
  });

  it('builds links that parse back to the same ids, even with characters a URL must escape', () => {
    const r = router();
    const server = 'lab 1/é?#';
    const href = r.resolve({ name: 'agent', params: { serverId: server, agentId: AGENT } }).href;
    expect(href).not.toContain(' ');
    expect(href.split('/').length).toBe(5); // the id's slash is escaped, not a path separator
    const back = r.resolve(href);
    expect([viewOf(back), paramOf(back, 'serverId'), paramOf(back, 'agentId')]).toEqual([
      'agent',
      server,
      AGENT,
    ]);
  });

  it('sends an empty URL and unknown paths to the servers view; only the empty one counts as a first visit', async () => {
    const r = router();
    await r.push('/');
    expect(viewOf(r.currentRoute.value)).toBe('servers');
    expect(openedWithoutRoute(r.currentRoute.value)).toBe(true);
    for (const path of ['/nope', '/servers/s1/agents', '/servers/s1/agents/x/extra', '/queue/1']) {
      const fresh = router();
      await fresh.push(path);
      expect(fresh.currentRoute.value.fullPath, path).toBe('/servers');
      expect(openedWithoutRoute(fresh.currentRoute.value), path).toBe(false);
    }
    await r.push('/servers/s1');
    expect(openedWithoutRoute(r.currentRoute.value)).toBe(false);
  });

  it('validates ids taken from a URL with the IPC rules, and says what a valid one looks like', () => {
    expect(invalidIdReason('server', 's1')).toBeNull();
    expect(invalidIdReason('server', 'x'.repeat(201))).toMatch(/1 to 200 characters/);
    expect(invalidIdReason('agent', AGENT)).toBeNull();
    expect(invalidIdReason('agent', 'not-a-uuid')).toMatch(/UUID/);
  });

  it('has one route per view name, and every view path is distinct', () => {
    const names = VIEW_ROUTES.map((v) => v.name);
    const paths = VIEW_ROUTES.map((v) => v.path);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(paths).size).toBe(paths.length);
  });
});
