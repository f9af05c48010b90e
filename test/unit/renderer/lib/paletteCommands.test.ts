import { describe, expect, it } from 'vitest';
import {
  PALETTE_SKIPPED_ACTIONS,
  filterPalette,
  matchScore,
  paletteEntries,
} from '../../../../renderer/src/lib/paletteCommands';
import { SHORTCUTS } from '../../../../renderer/src/lib/shortcuts';

const entries = paletteEntries({
  servers: [
    { id: 'srv-lab', name: 'lab' },
    { id: 'srv-prod', name: 'production' },
  ],
  agentsServer: { id: 'srv-lab', name: 'lab' },
  agents: [
    { id: '00000000-0000-4000-8000-0000000000aa', name: 'indexer' },
    { id: '00000000-0000-4000-8000-0000000000bb', name: 'crawler' },
  ],
});

describe('palette entries', () => {
  it('list every shortcut action except the two that are the palette itself (close, open)', () => {
    const actions = entries.flatMap((e) => (e.target.kind === 'action' ? [e.target.action] : []));
    const expected = SHORTCUTS.map((s) => s.action).filter((a) => !PALETTE_SKIPPED_ACTIONS.has(a));
    expect(actions).toEqual(expected);
    expect([...PALETTE_SKIPPED_ACTIONS].sort()).toEqual(['close', 'palette']);
  });

  it('list a jump to every server and to every agent of the open server, each with a unique key', () => {
    expect(entries.filter((e) => e.target.kind === 'server').map((e) => e.label)).toEqual([
      'Go to server lab',
      'Go to server production',
    ]);
    const agent = entries.find((e) => e.target.kind === 'agent' && e.label.endsWith('crawler'));
    expect(agent?.target).toEqual({
      kind: 'agent',
      serverId: 'srv-lab',
      agentId: '00000000-0000-4000-8000-0000000000bb',
    });
    expect(new Set(entries.map((e) => e.key)).size).toBe(entries.length);
  });

  it('list no agents when no server is open', () => {
    const none = paletteEntries({ servers: [], agentsServer: null, agents: [{ id: 'x', name: 'x' }] });
    expect(none.some((e) => e.target.kind === 'agent')).toBe(false);
  });
});

describe('filterPalette', () => {
  it('matches a substring of a name or an id, case-insensitively', () => {
    expect(filterPalette(entries, 'CRAWL', 10).shown.map((e) => e.label)).toEqual(['Open agent crawler']);
    expect(filterPalette(entries, '0000aa', 10).shown.map((e) => e.label)).toEqual(['Open agent indexer']);
    expect(filterPalette(entries, 'prod', 10).shown.map((e) => e.label)).toEqual(['Go to server production']);
  });

  it('matches characters in order (fuzzy) after every substring match', () => {
    expect(matchScore('crawler', 'cwl')).not.toBeNull();
    expect(matchScore('crawler', 'lwc')).toBeNull();
    const ranked = filterPalette(entries, 'idx', 10).shown.map((e) => e.label);
    expect(ranked).toContain('Open agent indexer');
    expect(filterPalette(entries, 'zzz', 10).shown).toEqual([]);
  });

  it('ranks an earlier substring first and keeps the given order on ties', () => {
    expect((matchScore('kill', 'k') ?? 99) < (matchScore('open kill', 'k') ?? 0)).toBe(true);
    const pause = filterPalette(entries, 'pause', 10).shown.map((e) => e.label);
    expect(pause[0]).toBe('Pause the selected agent(s)');
  });

  it('shows everything in order for a blank query, cut at the limit with a count of the rest', () => {
    const all = filterPalette(entries, '  ', 3);
    expect(all.shown).toEqual(entries.slice(0, 3));
    expect(all.more).toBe(entries.length - 3);
  });
});
