import { beforeEach, describe, expect, it } from 'vitest';
import { consoleRouter } from '../../../../renderer/src/router';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import { settle, withFreshApp } from '../setup';

const AGENT = '0f8e4c2a-3b1d-4e5f-9a6b-7c8d9e0f1a2b';

describe('ui store: a facade over the route', () => {
  withFreshApp();
  beforeEach(async () => {
    await consoleRouter().replace('/servers');
  });

  it('open* navigate, and view/serverId/agentId follow the route, Back included', async () => {
    const ui = useUiStore();
    const router = consoleRouter();
    ui.openServer('s1');
    await settle();
    expect([ui.view, ui.serverId, ui.agentId]).toEqual(['agents', 's1', null]);
    expect(router.currentRoute.value.fullPath).toBe('/servers/s1');
    ui.openAgent('s1', AGENT);
    await settle();
    expect([ui.view, ui.serverId, ui.agentId]).toEqual(['agent', 's1', AGENT]);
    router.back();
    await settle(20);
    expect([ui.view, ui.serverId, ui.agentId]).toEqual(['agents', 's1', null]);
    ui.showServers();
    await settle();
    expect([ui.view, ui.serverId]).toEqual(['servers', null]);
    expect(ui.lastServerId).toBe('s1'); // the Agents tab still knows where to go back
  });

  it('a URL changed from outside (a link, the address bar) is what the store reports', async () => {
    const ui = useUiStore();
    await consoleRouter().push(`/servers/s2/agents/${AGENT}`);
    expect([ui.view, ui.serverId, ui.agentId]).toEqual(['agent', 's2', AGENT]);
  });

  it('toggleQueue shows the queue, then returns to the exact view before it', async () => {
    const ui = useUiStore();
    ui.openAgent('s1', AGENT);
    await settle();
    ui.toggleQueue();
    await settle();
    expect([ui.view, ui.serverId]).toEqual(['queue', null]);
    ui.toggleQueue();
    await settle();
    expect([ui.view, ui.serverId, ui.agentId]).toEqual(['agent', 's1', AGENT]);
  });

  it('agentHref is a hash link that leads to that agent', async () => {
    const ui = useUiStore();
    const href = ui.agentHref('s1', AGENT);
    expect(href).toBe(`#/servers/s1/agents/${AGENT}`);
    await consoleRouter().push(href.slice(1));
    expect([ui.view, ui.agentId]).toEqual(['agent', AGENT]);
  });

  it('a location that cannot be built (an empty id) is reported, not thrown, and the view stays', async () => {
    const ui = useUiStore();
    expect(() => {
      ui.openAgent('s1', '');
    }).not.toThrow();
    await settle();
    expect(ui.view).toBe('servers');
    expect(ui.toast?.tone).toBe('error');
    expect(ui.toast?.text).toMatch(/Cannot open that view/);
  });

  it('Escape closes the palette before any dialog under it', () => {
    const ui = useUiStore();
    ui.helpOpen = true;
    ui.paletteOpen = true;
    expect(ui.closeTop()).toBe(true);
    expect([ui.paletteOpen, ui.helpOpen]).toEqual([false, true]);
  });
});
