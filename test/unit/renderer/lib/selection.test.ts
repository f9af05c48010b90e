import { describe, expect, it } from 'vitest';
import { clickSelect, emptySelection, toggleAll } from '../../../../renderer/src/lib/selection';

const ids = ['a', 'b', 'c', 'd', 'e'];

describe('selection', () => {
  it('click selects one, shift-click selects the range from the anchor', () => {
    let s = clickSelect(emptySelection(), 'b', ids);
    expect([...s.selected]).toEqual(['b']);
    s = clickSelect(s, 'd', ids, { shift: true });
    expect([...s.selected].sort()).toEqual(['b', 'c', 'd']);
    s = clickSelect(s, 'a', ids, { shift: true });
    expect([...s.selected].sort()).toEqual(['a', 'b']);
  });

  it('ctrl-click toggles and moves the anchor', () => {
    let s = clickSelect(emptySelection(), 'a', ids);
    s = clickSelect(s, 'c', ids, { toggle: true });
    s = clickSelect(s, 'a', ids, { toggle: true });
    expect([...s.selected]).toEqual(['c']);
    expect(s.anchor).toBe('a');
  });

  it('select-all-filtered selects the shown ids, then clears them', () => {
    let s = toggleAll(emptySelection(), ['b', 'c']);
    expect([...s.selected].sort()).toEqual(['b', 'c']);
    s = toggleAll(s, ['b', 'c']);
    expect(s.selected.size).toBe(0);
  });
});
