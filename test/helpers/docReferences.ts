/**
 * Finds references to Markdown files, their sections (`§N`, `§N.M`, ranges `§N–M`) and their
 * anchors (`file#slug`) in the repository's text files, and says which ones do not resolve to
 * something inside the repository. `test/unit/docs/references.test.ts` runs it over the tree so
 * that a dangling citation in a comment, a config file or a document fails CI.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';

/** Directories never scanned: installed packages, build output, VCS data, bench results. */
const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  'dist',
  'out',
  'coverage',
  'results',
]);

/** Text files that can hold a reference; `package-lock.json` only holds third-party URLs. */
const SCANNED_EXTENSIONS: ReadonlySet<string> = new Set([
  '.ts',
  '.vue',
  '.js',
  '.mjs',
  '.cjs',
  '.md',
  '.yml',
  '.yaml',
  '.json',
  '.sh',
  '.html',
]);
const SKIPPED_FILES: ReadonlySet<string> = new Set(['package-lock.json']);
/** Extensionless scripts that are scanned too (CI entry points). */
const SCRIPT_DIRS: ReadonlySet<string> = new Set(['.ci']);

/** One reference that does not resolve. */
export interface ReferenceProblem {
  /** Repository-relative path of the file that holds it, with `/` separators. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

/** What a Markdown document offers to references: its numbered sections and heading anchors. */
export interface DocumentOutline {
  /** Section numbers of headings such as `## 3. The queue` or `### 3.2 Lifecycle`: "3", "3.2". */
  readonly sections: ReadonlySet<string>;
  /** GitHub-style anchors of every heading. */
  readonly anchors: ReadonlySet<string>;
}

/** Every scanned file under `root`, as absolute paths, in a stable order. */
export function scannedFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, top: boolean): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path, false);
        continue;
      }
      if (!entry.isFile() || SKIPPED_FILES.has(entry.name)) continue;
      const inScriptDir = !top && SCRIPT_DIRS.has(relative(root, dir).split(sep)[0] ?? '');
      if (SCANNED_EXTENSIONS.has(extname(entry.name)) || (inScriptDir && extname(entry.name) === '')) {
        out.push(path);
      }
    }
  };
  walk(root, true);
  return out;
}

/** GitHub's anchor for a heading text: lowercase, punctuation dropped, spaces as hyphens. */
export function headingSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The numbered sections and anchors of a Markdown text (headings inside code fences ignored). */
export function outlineOf(markdown: string): DocumentOutline {
  const sections = new Set<string>();
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1] ?? '';
    const number = /^(\d+(?:\.\d+)*)\.?\s/.exec(text);
    if (number?.[1] !== undefined) sections.add(number[1]);
    const slug = headingSlug(text);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return { sections, anchors };
}

/** URLs (`https://…`, `tcp://…`, `app://…`) are not repository paths: blank them out, keeping columns. */
function withoutUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`)<>\]]*/gi, (url) => ' '.repeat(url.length));
}

/** A Markdown path, optionally with an anchor: `docs/PROTOCOL.md`, `README.md#security`. */
const MD_REF = /(?<![\w/.-])((?:\.{1,2}\/)*(?:[\w-][\w.-]*\/)*[\w-][\w.-]*\.md)(?:#([\w-]+))?(?![\w])/g;
/** A section citation after a Markdown path: `docs/ARCHITECTURE.md §3`, `docs/PROTOCOL.md §4.2–4.4`. */
const SECTION_REF =
  /((?:\.{1,2}\/)*(?:[\w-][\w.-]*\/)*[\w-][\w.-]*\.md)\s*§\s*(\d+(?:\.\d+)*)(?:\s*[–-]\s*(\d+(?:\.\d+)*))?/g;
/** A section sign and number with no file before it: in Markdown, a section of the same document. */
const LOCAL_SECTION_REF = /§\s*(\d+(?:\.\d+)*)(?:\s*[–-]\s*(\d+(?:\.\d+)*))?/g;
/**
 * A relative path that climbs to a file with an extension (a document, a data file): it must stay
 * inside the repository. Import specifiers (no extension) are checked by the compiler instead.
 */
const CLIMBING_PATH = /(?<![\w.])((?:\.\.\/)+(?:[\w-][\w.-]*\/)*[\w-][\w-]*\.[A-Za-z]\w*)(?![\w/])/g;
/** A Markdown link target that is a relative path (not a URL, not a bare anchor). */
const MD_LINK = /\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s#]+)(?:#([\w-]+))?\)|\]\(#([\w-]+)\)/gi;

/**
 * Checks one file's references.
 * @param root the repository root (absolute)
 * @param file the file's absolute path
 * @param text its contents
 * @param outline reads the outline of a Markdown file inside the repository (cached by the caller)
 * @returns the references that do not resolve, in order
 */
export function referenceProblems(
  root: string,
  file: string,
  text: string,
  outline: (absolutePath: string) => DocumentOutline,
): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const rel = relative(root, file).split(sep).join('/');
  const isMarkdown = extname(file) === '.md';
  const inside = (path: string): boolean => path === root || path.startsWith(root + sep);
  /** The file a Markdown reference names: next to the citing file, else from the root. */
  const target = (ref: string): string | null => {
    for (const candidate of [resolve(dirname(file), ref), resolve(root, ref)]) {
      if (inside(candidate) && existsSync(candidate)) return candidate;
    }
    return null;
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = withoutUrls(raw);
    const report = (match: string, reason: string): void => {
      problems.push({ file: rel, line: index + 1, text: match.trim(), reason });
    };
    const checkSections = (doc: string, label: string, from: string, to: string | undefined): void => {
      const { sections } = outline(doc);
      for (const n of to === undefined ? [from] : [from, to]) {
        if (!sections.has(n)) report(label, `${relative(root, doc)} has no section §${n}`);
      }
    };

    const spec = /\.\.\/shared\/spec\b|\bshared\/spec\//.exec(line);
    if (spec) report(spec[0], 'cites the reference specs, which are not in the repository');

    const covered: [number, number][] = [];
    /** Where each section citation of this line starts, and the document it names. */
    const cited: { at: number; doc: string | null }[] = [];
    for (const m of line.matchAll(SECTION_REF)) {
      const [whole, ref = '', from = '', to] = m;
      covered.push([m.index, m.index + whole.length]);
      const doc = target(ref);
      cited.push({ at: m.index, doc });
      if (doc === null) report(whole, `${ref} is not a file in the repository`);
      else checkSections(doc, whole, from, to);
    }
    for (const m of line.matchAll(LOCAL_SECTION_REF)) {
      if (covered.some(([a, b]) => m.index >= a && m.index < b)) continue;
      const [whole, from = '', to] = m;
      // "docs/PROTOCOL.md §2.1 and §2.3": a bare section after a citation on the same line is of
      // the same document; in Markdown, one with none before it is a section of the document itself.
      const previous = cited.filter((c) => c.at < m.index).pop();
      const doc = previous === undefined ? (isMarkdown ? file : undefined) : previous.doc;
      if (doc === undefined) {
        report(whole, 'a section number without the document it belongs to (name the file before the §)');
      } else if (doc !== null) checkSections(doc, whole, from, to);
    }

    for (const m of line.matchAll(MD_REF)) {
      // Already resolved (and reported when missing) as the file of a section citation.
      if (covered.some(([a, b]) => m.index >= a && m.index < b)) continue;
      const [whole, ref = '', anchor] = m;
      const doc = target(ref);
      if (doc === null) {
        report(whole, `${ref} is not a file in the repository`);
        continue;
      }
      if (anchor !== undefined && !outline(doc).anchors.has(anchor)) {
        report(whole, `${relative(root, doc)} has no heading with the anchor #${anchor}`);
      }
    }

    for (const m of line.matchAll(CLIMBING_PATH)) {
      const path = m[1] ?? '';
      if (!inside(resolve(dirname(file), path))) report(path, 'points outside the repository');
    }

    if (!isMarkdown) return;
    for (const m of line.matchAll(MD_LINK)) {
      const [whole, path, anchor, localAnchor] = m;
      if (localAnchor !== undefined) {
        if (!outline(file).anchors.has(localAnchor))
          report(whole, `no heading with the anchor #${localAnchor}`);
        continue;
      }
      if (path === undefined || path.endsWith('.md')) continue; // checked above
      const resolved = resolve(dirname(file), path);
      if (!inside(resolved) || !existsSync(resolved))
        report(whole, `${path} is not a file in the repository`);
      else if (anchor !== undefined && statSync(resolved).isFile() && extname(resolved) === '.md') {
        if (!outline(resolved).anchors.has(anchor)) report(whole, `no heading with the anchor #${anchor}`);
      }
    }
  });
  return problems;
}

/** Runs {@link referenceProblems} over every scanned file under `root`. */
export function repositoryReferenceProblems(root: string): ReferenceProblem[] {
  const outlines = new Map<string, DocumentOutline>();
  const outline = (path: string): DocumentOutline => {
    let o = outlines.get(path);
    if (o === undefined) {
      o = outlineOf(readFileSync(path, 'utf8'));
      outlines.set(path, o);
    }
    return o;
  };
  return scannedFiles(root).flatMap((file) =>
    referenceProblems(root, file, readFileSync(file, 'utf8'), outline),
  );
}
