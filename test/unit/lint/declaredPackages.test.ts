import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every package the project's own code imports is declared in package.json: an undeclared one
 * works only while something else happens to pull it into node_modules (esbuild came with
 * vite), and breaks a fresh install the day that changes. Build tooling lives in scripts/ and
 * the app never imports it, so tooling cannot leak into a bundle.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
const SOURCE_DIRS = ['main', 'server', 'shared', 'preload', 'renderer', 'scripts', 'bench', 'fuzz', 'test'];
const RUNTIME_DIRS = ['main', 'server', 'shared', 'preload', 'renderer'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'results']);
const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs|vue)$/;

interface Import {
  /** Path of the importing file, relative to the repository root. */
  readonly file: string;
  readonly specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Static imports and re-exports, `import()` and `require()` of one file (TypeScript's own pre-parser). */
function importsOf(path: string): Import[] {
  const file = relative(ROOT, path);
  return ts
    .preProcessFile(readFileSync(path, 'utf8'), true, true)
    .importedFiles.map(({ fileName }) => ({ file, specifier: fileName }));
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; null for relative paths and Node builtins. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  return builtinModules.includes(name) ? null : name;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const declared = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.devDependencies ?? {}),
]);
const rootConfigs = readdirSync(ROOT).filter((name) => /\.config\.(ts|js|mjs)$/.test(name));
const imports = [
  ...SOURCE_DIRS.flatMap((dir) => sourceFiles(join(ROOT, dir))),
  ...rootConfigs.map((name) => join(ROOT, name)),
].flatMap(importsOf);

describe('declared packages', () => {
  it('finds the imports it checks', () => {
    // A scan that silently finds nothing would pass the checks below.
    expect(imports.some((i) => i.file === join('scripts', 'build.ts') && i.specifier === 'esbuild')).toBe(
      true,
    );
    expect(imports.some((i) => i.file.endsWith('.vue') && i.specifier === 'vue')).toBe(true);
    expect(imports.some((i) => i.specifier === 'node:fs')).toBe(true);
  });

  it('reads package names the way Node resolves them', () => {
    expect(packageOf('@msgpack/msgpack/dist/x')).toBe('@msgpack/msgpack');
    expect(packageOf('vitest/config')).toBe('vitest');
    expect(packageOf('fs')).toBeNull();
    expect(packageOf('node:test')).toBeNull();
    expect(packageOf('../shared/ipc')).toBeNull();
  });

  it('every imported package is declared in package.json', () => {
    const undeclared = imports
      .map((i) => ({ ...i, name: packageOf(i.specifier) }))
      .filter((i) => i.name !== null && !declared.has(i.name))
      .map((i) => `${i.file}: ${i.specifier}`);
    expect(undeclared).toEqual([]);
  });

  it('the app never imports the build tooling in scripts/', () => {
    const fromRuntime = imports.filter(
      (i) =>
        RUNTIME_DIRS.some((dir) => i.file.startsWith(dir + '/')) && /(^|\/)scripts(\/|$)/.test(i.specifier),
    );
    expect(fromRuntime.map((i) => `${i.file}: ${i.specifier}`)).toEqual([]);
  });
});
