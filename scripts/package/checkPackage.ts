/**
 * `npm run check:package`: packs the app OFFLINE with electron-builder (`--linux dir`, a
 * stand-in Electron folder, no rebuild, network pointed at a dead proxy) into a temp folder,
 * then checks what the unpacked app ships:
 * - the files (bundles, renderer, only the Linux zeromq prebuild, nothing else);
 * - the Electron fuses electron-builder flipped in the packed executable (the stand-in carries
 *   Electron 40's fuse wire, so @electron/fuses really flips it), the electron-builder config
 *   they come from, and the asar archive's integrity hashes;
 * - the app itself: its packed main bundle runs with Node against a stand-in Electron
 *   (`packageProbe.ts`): it must register and serve app://console/ (CSP header, traversal
 *   refused), load nothing else, answer the IPC only from that origin, and run its packed
 *   agent server in a utility process that it stops on quit.
 * Exit code 1 with one line per problem.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildElectron } from '../build';
import {
  ELECTRON_DEFAULT_FUSES,
  FUSE_NAMES,
  fuseProblems,
  fuseWireBytes,
  readFuseWire,
  REQUIRED_FUSES,
  type FuseWire,
} from './fuseWire';
import { probeProblems, runPackageProbe } from './packageProbe';
import type { ProbeReport } from './packageProbeReport';

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
  /** The fuse wire of the packed executable; null when it has none. */
  readonly fuses: FuseWire | null;
  /** Files inside `app.asar` whose header entry has no integrity hash (validation would refuse them). */
  readonly filesWithoutIntegrity: readonly string[];
  /** Whether a loose `resources/app` folder ships next to `app.asar`. */
  readonly looseAppFolder: boolean;
}

/**
 * What is wrong with a Linux package: missing app files, no Linux zeromq prebuild (unpacked,
 * so it can load), prebuilds of other platforms, TypeScript sources or test/src folders,
 * modules that are not needed at run time, a `main` that is not the bundle; fuses that are
 * not {@link REQUIRED_FUSES}, archive entries without integrity hashes, a loose app folder.
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
  problems.push(...fuseProblems(app.fuses));
  if (app.filesWithoutIntegrity.length > 0) {
    problems.push(`app.asar entries without an integrity hash: ${sample(app.filesWithoutIntegrity)}`);
  }
  if (app.looseAppFolder) problems.push('a resources/app folder ships next to app.asar');
  return problems;
}

/** The electron-builder config keys of the fuses: `RunAsNode` → `runAsNode`, and so on. */
const FUSE_CONFIG_KEYS = FUSE_NAMES.map((name) => `${name.charAt(0).toLowerCase()}${name.slice(1)}`);

/** Platform sections of an electron-builder config that may override `asar`. */
const PLATFORM_SECTIONS = ['linux', 'mac', 'mas', 'win'] as const;

/**
 * What is wrong with the electron-builder config for fuses and asar integrity, on every
 * platform (the Linux pack shows only Linux): `electronFuses` must set every fuse as
 * {@link REQUIRED_FUSES} says; asar must stay on everywhere (the integrity fuse validates the
 * archive and OnlyLoadAppFromAsar loads nothing else); `disableAsarIntegrity` must stay unset
 * (it would leave the macOS/Windows binaries without the header hash to validate against).
 * @returns one sentence per problem; empty when the config is fine
 */
export function builderConfigProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const fuses = config.electronFuses;
  if (typeof fuses !== 'object' || fuses === null)
    problems.push('electron-builder config sets no electronFuses');
  else {
    FUSE_NAMES.forEach((name, i) => {
      const key = FUSE_CONFIG_KEYS[i] ?? name;
      const want = REQUIRED_FUSES[name] === 'on';
      const value = (fuses as Record<string, unknown>)[key];
      if (value !== want) problems.push(`electronFuses.${key} is ${JSON.stringify(value)}, must be ${want}`);
    });
  }
  if (config.asar === false) problems.push('asar is off: the integrity and asar-only fuses need app.asar');
  for (const section of PLATFORM_SECTIONS) {
    const options = config[section];
    if (typeof options === 'object' && options !== null && (options as { asar?: unknown }).asar === false) {
      problems.push(`${section}.asar is off: the integrity and asar-only fuses need app.asar`);
    }
  }
  if (config.disableAsarIntegrity === true) {
    problems.push('disableAsarIntegrity is set: the app.asar header hash would not be embedded');
  }
  return problems;
}

interface AsarNode {
  files?: Record<string, AsarNode>;
  link?: string;
  unpacked?: boolean;
  integrity?: unknown;
}

/**
 * Files packed in an asar header without an integrity hash. Unpacked files (the zeromq addon)
 * are read from disk, outside the archive and its validation, so they are not counted.
 */
export function filesWithoutIntegrity(node: AsarNode, path = ''): string[] {
  if (node.files !== undefined) {
    return Object.entries(node.files).flatMap(([name, child]) =>
      filesWithoutIntegrity(child, path === '' ? name : `${path}/${name}`),
    );
  }
  if (node.link !== undefined || node.unpacked === true || node.integrity !== undefined) return [];
  return [path];
}

function sample(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).join(', ');
  return paths.length > 5 ? `${shown} (+${paths.length - 5} more)` : shown;
}

/**
 * A stand-in for Electron's release folder: what electron-builder copies and renames when it
 * is given `electronDist` instead of downloading Electron. Its executable cannot run (nothing
 * runs it) but carries Electron 40's fuse wire as shipped, so electron-builder's
 * `electronFuses` step flips real bytes that the check then reads back.
 */
export function makeStandInElectron(dir: string, version: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  const exe = join(dir, 'electron');
  writeFileSync(
    exe,
    Buffer.concat([
      Buffer.from(
        '#!/bin/sh\necho "stand-in Electron: the package check never runs it" >&2\nexit 1\n# fuse wire: ',
      ),
      fuseWireBytes(ELECTRON_DEFAULT_FUSES),
      Buffer.from('\n'),
    ]),
  );
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
  /** The repository root; default this file's `../..` (`scripts/package/` sits two levels down). */
  readonly root?: string;
  /** Where electron-builder writes; default a fresh temp folder (removed afterwards unless `keep`). */
  readonly outDir?: string;
  /** Build the bundles (and the renderer when `dist/renderer/index.html` is missing) first; default true. */
  readonly build?: boolean;
  readonly keep?: boolean;
  /** The electron-builder config, relative to `root` or absolute; default `electron-builder.yml`. */
  readonly configFile?: string;
  /** Run the packed main bundle against the stand-in Electron (`packageProbe.ts`); default true. */
  readonly probe?: boolean;
}

export interface PackageCheckResult {
  readonly app: PackedApp;
  /** What the packed main bundle did under the stand-in Electron; null when `probe: false`. */
  readonly probe: ProbeReport | null;
  readonly problems: readonly string[];
  /** electron-builder's output (the last 256 KiB). */
  readonly log: string;
}

/** Port the probe's embedded agent server is tried on first (the check's range is 24500-24799). */
const PROBE_SERVER_PORT = 24750;

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
  const configPath = options.configFile ?? 'electron-builder.yml';
  const yaml = req('js-yaml') as { load(text: string): unknown };
  const config = (yaml.load(
    readFileSync(isAbsolute(configPath) ? configPath : join(root, configPath), 'utf8'),
  ) ?? {}) as Record<string, unknown>;
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
      configPath,
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
    const appOutDir = join(outDir, 'linux-unpacked');
    const resources = join(appOutDir, 'resources');
    const asar = req('@electron/asar') as {
      listPackage(archive: string, options?: { isPack?: boolean }): string[];
      extractFile(archive: string, filename: string): Buffer;
      extractAll(archive: string, dest: string): void;
      getRawHeader(archive: string): { header: AsarNode };
    };
    const archive = join(resources, 'app.asar');
    if (!existsSync(archive))
      throw new Error(`electron-builder wrote no ${archive}:\n${result.output.slice(-4000)}`);
    const asarEntries = asar.listPackage(archive).map((p) => p.replace(/\\/g, '/').replace(/^\//, ''));
    const packageJson = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')) as {
      main?: unknown;
    };
    const executable = join(appOutDir, String(config.executableName ?? config.productName));
    const app: PackedApp = {
      asarEntries,
      unpackedFiles: listFiles(join(resources, 'app.asar.unpacked')),
      packageJson,
      fuses: existsSync(executable) ? readFuseWire(readFileSync(executable)) : null,
      filesWithoutIntegrity: filesWithoutIntegrity(asar.getRawHeader(archive).header),
      looseAppFolder: existsSync(join(resources, 'app')),
    };
    const problems = [...packageProblems(app, 'linux'), ...builderConfigProblems(config)];
    let probe: ProbeReport | null = null;
    if (options.probe ?? true) {
      // A copy of the archive as Electron would see it (unpacked files in place), run with Node.
      const appDir = join(work, 'probe', 'app');
      asar.extractAll(archive, appDir);
      probe = await runPackageProbe({ appDir, workDir: join(work, 'probe'), serverPort: PROBE_SERVER_PORT });
      problems.push(
        ...probeProblems(probe, {
          indexHtml: asar.extractFile(archive, 'dist/renderer/index.html').toString('utf8'),
          packageJson: asar.extractFile(archive, 'package.json').toString('utf8'),
        }),
      );
    }
    return { app, probe, problems, log: result.output };
  } finally {
    if (options.keep !== true) rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  checkPackage().then(
    ({ app, probe, problems }) => {
      const took = ((Date.now() - started) / 1000).toFixed(1);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`check:package: ${p}\n`);
        process.exit(1);
      }
      // No problems: the fuses read back as required and the probe (when run) passed.
      const probed =
        probe === null
          ? ''
          : '; the packed app served app://console/ and its server ran in a utility process';
      process.stdout.write(
        `check:package: OK in ${took} s — ${app.asarEntries.length} entries in app.asar, ${app.unpackedFiles.length} unpacked files; fuses as required${probed}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`check:package: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
