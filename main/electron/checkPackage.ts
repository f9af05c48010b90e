/**
 * `npm run check:package`: packs the app OFFLINE with electron-builder (`--linux dir`, a
 * stand-in Electron folder, no rebuild, network pointed at a dead proxy) into a temp folder,
 * then checks what the unpacked app ships. Exit code 1 with one line per problem.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildElectron } from './build';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Files every packaged app must hold inside `app.asar`. */
export const REQUIRED_APP_FILES = [
  'package.json',
  'dist/electron/main.cjs',
  'dist/electron/preload.cjs',
  'dist/renderer/index.html',
  'dist/server/cli.cjs',
] as const;

/** Run-time modules the bundles leave external; nothing else may ship in node_modules. */
export const RUNTIME_MODULES: ReadonlySet<string> = new Set(['zeromq', 'cmake-ts', 'node-sqlite3-wasm']);

export interface PackedApp {
  /** Paths inside `resources/app.asar`, relative, `/`-separated (directories included). */
  readonly asarEntries: readonly string[];
  /** Files under `resources/app.asar.unpacked`, relative, `/`-separated. */
  readonly unpackedFiles: readonly string[];
  /** The packaged package.json. */
  readonly packageJson: { main?: unknown };
}

/**
 * What is wrong with a Linux package: missing app files, no Linux zeromq prebuild (unpacked,
 * so it can load), prebuilds of other platforms, TypeScript sources or test/src folders,
 * modules that are not needed at run time, a `main` that is not the bundle.
 * @returns one sentence per problem; empty when the package is fine
 */
export function packageProblems(app: PackedApp, platform: 'linux' | 'darwin' | 'win32' = 'linux'): string[] {
  const problems: string[] = [];
  const entries = new Set(app.asarEntries);
  const all = [...app.asarEntries, ...app.unpackedFiles];
  for (const file of REQUIRED_APP_FILES) {
    if (!entries.has(file)) problems.push(`app.asar lacks ${file}`);
  }
  if (app.packageJson.main !== 'dist/electron/main.cjs') {
    problems.push(
      `package.json main is ${JSON.stringify(app.packageJson.main)}, not "dist/electron/main.cjs"`,
    );
  }
  const prebuild = new RegExp(`^node_modules/zeromq/build/${platform}/[^/]+/.+/addon\\.node$`);
  if (!app.unpackedFiles.some((f) => prebuild.test(f))) {
    problems.push(
      `no unpacked zeromq prebuild for ${platform} (node_modules/zeromq/build/${platform}/<arch>/…/addon.node)`,
    );
  }
  const foreign = all.filter((p) => {
    const m = /^node_modules\/zeromq\/build\/([^/]+)\//.exec(p);
    return m !== null && m[1] !== platform;
  });
  if (foreign.length > 0) problems.push(`zeromq prebuilds of other platforms ship: ${sample(foreign)}`);
  const typescript = all.filter((p) => /\.(ts|mts|cts|tsx)$/.test(p));
  if (typescript.length > 0) problems.push(`TypeScript sources ship: ${sample(typescript)}`);
  const sourceDirs = all.filter((p) => /(^|\/)(src|test|tests|__tests__)(\/|$)/.test(p));
  if (sourceDirs.length > 0) problems.push(`src/ or test/ folders ship: ${sample(sourceDirs)}`);
  const zeromqBuildFiles = all.filter((p) => /^node_modules\/zeromq\/(vcpkg[^/]*|CMakeLists\.txt)$/.test(p));
  if (zeromqBuildFiles.length > 0) problems.push(`zeromq build files ship: ${sample(zeromqBuildFiles)}`);
  const modules = new Set(
    all.map((p) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1]).filter((m) => m !== undefined),
  );
  const extra = [...modules].filter((m) => !RUNTIME_MODULES.has(m)).sort();
  if (extra.length > 0) problems.push(`modules not needed at run time ship: ${extra.join(', ')}`);
  const ourSources = app.asarEntries.filter((p) =>
    /^(main|preload|renderer|server|shared|bench|test)(\/|$)/.test(p),
  );
  if (ourSources.length > 0) problems.push(`repository sources ship: ${sample(ourSources)}`);
  return problems;
}

function sample(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).join(', ');
  return paths.length > 5 ? `${shown} (+${paths.length - 5} more)` : shown;
}

/**
 * A stand-in for Electron's release folder: what electron-builder copies and renames when it
 * is given `electronDist` instead of downloading Electron. It cannot run; nothing runs it.
 */
export function makeStandInElectron(dir: string, version: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  const exe = join(dir, 'electron');
  writeFileSync(exe, '#!/bin/sh\necho "stand-in Electron: the package check never runs it" >&2\nexit 1\n');
  chmodSync(exe, 0o755);
  writeFileSync(join(dir, 'version'), version);
  writeFileSync(join(dir, 'LICENSE'), 'stand-in\n');
}

function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, base));
    else out.push(relative(base, full).split(sep).join('/'));
  }
  return out;
}

/** Where nothing listens: any download attempt fails at once and names its URL in the log. */
const DEAD_PROXY = 'http://127.0.0.1:9';

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-256 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => {
      resolve({ code: null, output: `${output}\n${error.message}` });
    });
    child.on('close', (code) => {
      resolve({ code, output });
    });
  });
}

export interface PackageCheckOptions {
  /** The repository root; default this file's `../..`. */
  readonly root?: string;
  /** Where electron-builder writes; default a fresh temp folder (removed afterwards unless `keep`). */
  readonly outDir?: string;
  /** Build the bundles (and the renderer when `dist/renderer/index.html` is missing) first; default true. */
  readonly build?: boolean;
  readonly keep?: boolean;
  /** The electron-builder config, relative to `root` or absolute; default `electron-builder.yml`. */
  readonly configFile?: string;
}

export interface PackageCheckResult {
  readonly app: PackedApp;
  readonly problems: readonly string[];
  /** electron-builder's output (the last 256 KiB). */
  readonly log: string;
}

/**
 * Builds, packs offline and inspects the Linux app.
 * @throws Error when a build step fails, or when electron-builder fails (its log is in the
 *   message; a download attempt shows up there as a connection refused by 127.0.0.1:9)
 */
export async function checkPackage(options: PackageCheckOptions = {}): Promise<PackageCheckResult> {
  const root = options.root ?? ROOT;
  const req = createRequire(join(root, 'package.json'));
  if (options.build ?? true) {
    await buildElectron(root);
    if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) {
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      const r = await run(npm, ['run', 'build:renderer'], root, process.env);
      if (r.code !== 0) throw new Error(`npm run build:renderer failed:\n${r.output.slice(-4000)}`);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'descartes-pack-'));
  const outDir = options.outDir ?? join(work, 'out');
  const electronDist = join(work, 'electron-dist');
  const electronVersion = (req('electron/package.json') as { version: string }).version;
  makeStandInElectron(electronDist, electronVersion);
  try {
    const cli = req.resolve('electron-builder/cli.js');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
      HTTP_PROXY: DEAD_PROXY,
      HTTPS_PROXY: DEAD_PROXY,
      http_proxy: DEAD_PROXY,
      https_proxy: DEAD_PROXY,
      NO_PROXY: '',
      no_proxy: '',
      CSC_IDENTITY_AUTO_DISCOVERY: 'false',
    };
    const args = [
      cli,
      '--config',
      options.configFile ?? 'electron-builder.yml',
      '--linux',
      'dir',
      '--publish',
      'never',
      `-c.electronDist=${electronDist}`,
      `-c.electronVersion=${electronVersion}`,
      '-c.npmRebuild=false',
      `-c.directories.output=${outDir}`,
    ];
    const result = await run(process.execPath, args, root, env);
    if (result.code !== 0)
      throw new Error(
        `electron-builder failed (exit ${String(result.code)}):\n${result.output.slice(-6000)}`,
      );
    const resources = join(outDir, 'linux-unpacked', 'resources');
    const asar = req('@electron/asar') as {
      listPackage(archive: string, options?: { isPack?: boolean }): string[];
      extractFile(archive: string, filename: string): Buffer;
    };
    const archive = join(resources, 'app.asar');
    if (!existsSync(archive))
      throw new Error(`electron-builder wrote no ${archive}:\n${result.output.slice(-4000)}`);
    const asarEntries = asar.listPackage(archive).map((p) => p.replace(/\\/g, '/').replace(/^\//, ''));
    const packageJson = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')) as {
      main?: unknown;
    };
    const app: PackedApp = {
      asarEntries,
      unpackedFiles: listFiles(join(resources, 'app.asar.unpacked')),
      packageJson,
    };
    return { app, problems: packageProblems(app, 'linux'), log: result.output };
  } finally {
    if (options.keep !== true) rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  checkPackage().then(
    ({ app, problems }) => {
      const took = ((Date.now() - started) / 1000).toFixed(1);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`check:package: ${p}\n`);
        process.exit(1);
      }
      process.stdout.write(
        `check:package: OK in ${took} s — ${app.asarEntries.length} entries in app.asar, ${app.unpackedFiles.length} unpacked files\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`check:package: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
