import { describe, expect, it } from 'vitest';
import { SHORTCUTS, shortcutFor } from '../../../../renderer/src/lib/shortcuts';

const key = (k: string, target: EventTarget | null = document.body, mods: Partial<KeyboardEvent> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  target,
  ...mods,
});

describe('shortcutFor', () => {
  it('maps the main keys', () => {
    expect(shortcutFor(key('p'))).toBe('pause');
    expect(shortcutFor(key('K', document.body, { shiftKey: true }))).toBe('kill');
    // Caps Lock turns `k` (previous row) into `K` without Shift: that must not kill.
    expect(shortcutFor(key('K'))).toBeNull();
    expect(shortcutFor(key('k'))).toBe('rowPrev');
    expect(shortcutFor(key('j'))).toBe('rowNext');
    expect(shortcutFor(key('/'))).toBe('focusFilter');
    expect(shortcutFor(key('?'))).toBe('help');
    expect(shortcutFor(key('x'))).toBeNull();
  });

  it('ignores keys typed into fields and keys with modifiers', () => {
    const input = document.createElement('input');
    const textarea = document.createElement('textarea');
    const checkbox = document.createElement('input');
    checkbox.type = 'checkbox';
    expect(shortcutFor(key('p', input))).toBeNull();
    expect(shortcutFor(key('s', textarea))).toBeNull();
    expect(shortcutFor(key('s', checkbox))).toBe('stop');
    expect(shortcutFor(key('p', document.body, { ctrlKey: true }))).toBeNull();
    expect(shortcutFor(key('Escape', input))).toBe('close');
  });

  it('Ctrl+K and Cmd+K open the palette, even from a field; Alt+K and plain k do not', () => {
    const input = document.createElement('input');
    expect(shortcutFor(key('k', document.body, { ctrlKey: true }))).toBe('palette');
    expect(shortcutFor(key('k', input, { metaKey: true }))).toBe('palette');
    expect(shortcutFor(key('K', input, { ctrlKey: true }))).toBe('palette');
    expect(shortcutFor(key('k', document.body, { ctrlKey: true, altKey: true }))).toBeNull();
    expect(shortcutFor(key('k', input))).toBeNull();
  });

  it('every key is bound to one action only', () => {
    const keys = SHORTCUTS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
