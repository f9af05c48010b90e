/**
 * Text colours of both themes against every background of the same theme (styles.css): small
 * text needs 4.5:1 (WCAG AA), and state words are 12 px.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/serverProcess';

const CSS = readFileSync(join(REPO_ROOT, 'renderer/src/styles.css'), 'utf8');
const TEXT = ['--fg', '--fg-muted', '--ok', '--info', '--warn', '--error'] as const;
const BACKGROUNDS = ['--bg', '--bg-raised', '--bg-sunken', '--bg-hover', '--bg-selected'] as const;

function themeVariables(selector: string): Map<string, string> {
  const start = CSS.indexOf(selector);
  const block = CSS.slice(CSS.indexOf('{', start) + 1, CSS.indexOf('}', start));
  return new Map(
    [...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})\s*;/gi)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

describe('theme contrast', () => {
  for (const [theme, selector] of [
    ['dark', ":root[data-theme='dark']"],
    ['light', ":root[data-theme='light']"],
  ] as const) {
    it(`${theme}: every text colour is at least 4.5:1 on every background`, () => {
      const vars = themeVariables(selector);
      const short: string[] = [];
      for (const fg of TEXT) {
        for (const bg of BACKGROUNDS) {
          const a = vars.get(fg);
          const b = vars.get(bg);
          expect(a, `${theme} ${fg}`).toMatch(/^#[0-9a-f]{6}$/i);
          expect(b, `${theme} ${bg}`).toMatch(/^#[0-9a-f]{6}$/i);
          const ratio = contrast(a ?? '', b ?? '');
          if (ratio < 4.5) short.push(`${fg} ${a} on ${bg} ${b}: ${ratio.toFixed(2)}:1`);
        }
      }
      expect(short).toEqual([]);
    });
  }
});
