/**
 * Every citation in the repository points into it: each Markdown file named in code, tests,
 * scripts, config and documents exists here, each cited section (`§N`, `§N.M`) and anchor exists
 * in that file, and no path climbs out of the repository (the reference specs the project was
 * started from are not shipped with it). The project's own docs are docs/ARCHITECTURE.md and
 * docs/PROTOCOL.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  headingSlug,
  outlineOf,
  referenceProblems,
  repositoryReferenceProblems,
  scannedFiles,
  type DocumentOutline,
} from '../../helpers/docReferences';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

/**
 * Synthetic citations are assembled at run time: written out whole, the broken ones below would
 * be dangling citations in this very file and fail the repository scan.
 */
const MD = '.md';
const S = '§';
const SPEC = 'spec';

describe('the repository', () => {
  it('has its own architecture and protocol documents', () => {
    expect(existsSync(join(ROOT, 'docs', `ARCHITECTURE${MD}`))).toBe(true);
    expect(existsSync(join(ROOT, 'docs', `PROTOCOL${MD}`))).toBe(true);
  });

  it('scans code, tests, scripts, config and documents', () => {
    const files = scannedFiles(ROOT).map((f) => f.slice(ROOT.length + 1));
    for (const expected of [
      `README${MD}`,
      `docs/ARCHITECTURE${MD}`,
      'eslint.config.js',
      'electron-builder.yml',
      '.ci/run',
      'main/core/queue/commandQueue.ts',
      'renderer/src/App.vue',
      'test/fixtures/agents/action-agent.js',
    ]) {
      expect(files).toContain(expected);
    }
    expect(files.some((f) => f.includes('node_modules/'))).toBe(false);
  });

  it('cites only files, sections and anchors that exist inside it', () => {
    const problems = repositoryReferenceProblems(ROOT).map(
      (p) => `${p.file}:${String(p.line)}: ${p.text} — ${p.reason}`,
    );
    expect(problems).toEqual([]);
  });

  it("points the README's readers to docs/", () => {
    const readme = readFileSync(join(ROOT, `README${MD}`), 'utf8');
    expect(readme).toContain(`docs/ARCHITECTURE${MD}`);
    expect(readme).toContain(`docs/PROTOCOL${MD}`);
  });
});

describe('the reference check', () => {
  const doc = join(ROOT, 'docs', `PROTOCOL${MD}`);
  const outline: DocumentOutline = outlineOf(
    ['# Title', '## 1. Sockets', '### 1.2 Events', '```', '## 9. In a fence', '```', '## Plain'].join('\n'),
  );
  const check = (text: string, file = join(ROOT, 'main', 'x.ts')) =>
    referenceProblems(ROOT, file, text, (path) =>
      path === doc ? outline : outlineOf(readFileSync(path, 'utf8')),
    );

  it('accepts an existing file, section, range and anchor', () => {
    expect(check(`// docs/PROTOCOL${MD} ${S}1.2 and docs/PROTOCOL${MD} ${S}1–1.2`)).toEqual([]);
    expect(check(`// see docs/PROTOCOL${MD}#12-events`)).toEqual([]);
  });

  it('reports a file that is not in the repository', () => {
    const [problem] = check(`/** (PROTOCOL${MD} ${S}2) */`);
    expect(problem?.reason).toMatch(/not a file in the repository/);
  });

  it('reports a section the document does not have, also at the end of a range', () => {
    expect(check(`// docs/PROTOCOL${MD} ${S}9`)).toHaveLength(1);
    expect(check(`// docs/PROTOCOL${MD} ${S}1–3`)[0]?.reason).toMatch(/has no section/);
  });

  it('reports a missing anchor', () => {
    expect(check(`// docs/PROTOCOL${MD}#nowhere`)[0]?.reason).toMatch(/anchor #nowhere/);
  });

  it('reports a section number without its document outside Markdown', () => {
    expect(check(`// ARCHITECTURE ${S}4`)[0]?.reason).toMatch(/without the document/);
  });

  it('reads a bare section after a citation on the same line as one of the same document', () => {
    expect(check(`// docs/PROTOCOL${MD} ${S}1 and ${S}1.2`)).toEqual([]);
    expect(check(`// docs/PROTOCOL${MD} ${S}1 and ${S}7`)[0]?.reason).toMatch(/has no section/);
  });

  it('reads a bare section in Markdown as one of the document itself', () => {
    expect(check(`See ${S}1.2.`, doc)).toEqual([]);
    expect(check(`See ${S}4.`, doc)).toHaveLength(1);
  });

  it('reports paths that leave the repository, and the reference specs', () => {
    expect(check(`// ../../../elsewhere/spec/PROTOCOL${MD}`).map((p) => p.reason)).toContain(
      'points outside the repository',
    );
    expect(check(`// see ../shared/${SPEC}/notes`).map((p) => p.reason)).toContain(
      'cites the reference specs, which are not in the repository',
    );
  });

  it('ignores URLs', () => {
    expect(check(`// https://github.com/x/y/blob/main/NOWHERE${MD}#z`)).toEqual([]);
  });

  it('reads sections and anchors from headings outside code fences', () => {
    expect([...outline.sections]).toEqual(['1', '1.2']);
    expect(outline.anchors.has('plain')).toBe(true);
    expect(headingSlug('3.3 Sending, resending and the `dedupe` epoch')).toBe(
      '33-sending-resending-and-the-dedupe-epoch',
    );
  });
});
