/**
 * `npm run build:electron`: bundles the Electron main process, the sandboxed preload and the
 * agent server with esbuild into `dist/`:
 * - `dist/electron/main.cjs`   (node22, cjs; electron and the native/runtime deps stay external)
 * - `dist/electron/preload.cjs` (one file; only `require('electron')` may remain)
 * - `dist/server/cli.cjs`      (the agent server: an Electron utility process runs it, so does Node)
 * Fails (exit 1) when the preload bundle pulls in anything but our contract constants.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';

/** Modules the main bundle loads from node_modules at run time (native addons, wasm, optional deps). */
export const MAIN_EXTERNALS = ['electron', 'zeromq', 'node-sqlite3-wasm', 'ws'] as const;
export const SERVER_EXTERNALS = ['zeromq', 'node-sqlite3-wasm'] as const;

export interface BundleReport {
  readonly outfile: string;
  readonly bytes: number;
  /** Input files of the bundle, relative to the repository root. */
  readonly inputs: readonly string[];
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `import.meta.url` does not exist in CommonJS. Sources that read files next to themselves
 * (the server reads `../package.json`) get the URL they would have at their source position:
 * `<root>/<entryDir>/<file>.cjs`, derived from the bundle's own location (`<root>/dist/<x>/`),
 * which holds both in the repository and inside the packaged app.
 */
function importMetaShim(entryDir: string): Pick<BuildOptions, 'banner' | 'define'> {
  return {
    banner: {
      js: `const __descartesImportMetaUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', '..', ${JSON.stringify(entryDir)}, require('node:path').basename(__filename))).href;`,
    },
    define: { 'import.meta.url': '__descartesImportMetaUrl' },
  };
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
};

async function bundle(options: BuildOptions & { outfile: string }, root: string): Promise<BundleReport> {
  mkdirSync(dirname(options.outfile), { recursive: true });
  // Metafile paths are relative to the working dir: the repository root.
  const result = await build({ ...common, ...options, absWorkingDir: root });
  const meta: Metafile = result.metafile ?? { inputs: {}, outputs: {} };
  const output = meta.outputs[relative(root, options.outfile).split('\\').join('/')];
  return { outfile: options.outfile, bytes: output?.bytes ?? 0, inputs: Object.keys(meta.inputs) };
}

/**
 * Checks what the preload bundle is made of: our `preload/` and `shared/ipc/` sources only
 * (no zod, nothing from node_modules), and no `require` but `require("electron")`.
 * @returns the problems found (empty when the bundle is fine)
 */
export function preloadProblems(report: BundleReport, code: string): string[] {
  const problems: string[] = [];
  for (const input of report.inputs) {
    if (!/^(preload|shared\/ipc)\//.test(input)) problems.push(`the preload bundles ${input}`);
  }
  for (const m of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
    if (m[1] !== 'electron') problems.push(`the preload requires "${m[1] ?? ''}" at run time`);
  }
  return problems;
}

/**
 * Bundles the sandboxed preload to `outfile` and checks it is self-contained.
 * @throws Error when esbuild fails or the bundle pulls in more than our contract constants
 */
export async function buildPreload(outfile: string, root: string = ROOT): Promise<BundleReport> {
  const report = await bundle(
    {
      entryPoints: [join(root, 'preload', 'preload.ts')],
      outfile,
      external: ['electron'],
      // The sandboxed preload has no Node: `platform: 'browser'` keeps node built-ins out.
      platform: 'browser',
      target: 'chrome130',
      sourcemap: false,
    },
    root,
  );
  const problems = preloadProblems(report, readFileSync(outfile, 'utf8'));
  if (problems.length > 0)
    throw new Error(`the preload bundle is not self-contained: ${problems.join('; ')}`);
  return report;
}

/**
 * Bundles the agent server to `<root>/dist/server/cli.cjs` (what the Electron host forks).
 * @throws Error when esbuild fails
 */
export function buildServer(root: string = ROOT): Promise<BundleReport> {
  return bundle(
    {
      entryPoints: [join(root, 'server', 'cli.ts')],
      outfile: join(root, 'dist', 'server', 'cli.cjs'),
      external: [...SERVER_EXTERNALS],
      ...importMetaShim('server'),
    },
    root,
  );
}

/** Builds all three bundles into `<root>/dist`. @throws Error when esbuild fails or the preload is impure */
export async function buildElectron(root: string = ROOT): Promise<BundleReport[]> {
  const dist = join(root, 'dist');
  const main = await bundle(
    {
      entryPoints: [join(root, 'main', 'electron', 'main.ts')],
      outfile: join(dist, 'electron', 'main.cjs'),
      external: [...MAIN_EXTERNALS],
      ...importMetaShim('main/electron'),
    },
    root,
  );
  const preload = await buildPreload(join(dist, 'electron', 'preload.cjs'), root);
  const server = await buildServer(root);
  return [main, preload, server];
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildElectron().then(
    (reports) => {
      for (const r of reports) {
        process.stdout.write(
          `${relative(ROOT, r.outfile)}  ${(r.bytes / 1024).toFixed(1)} KiB  (${r.inputs.length} inputs)\n`,
        );
      }
    },
    (error: unknown) => {
      process.stderr.write(`build:electron: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
