/**
 * The runtime half of `npm run check:package`: the packed app's own main bundle is run with
 * Node against a stand-in 'electron' module (`packageProbeElectron.ts`, Electron's binary
 * cannot run here), from a copy of `app.asar` extracted to a temp folder. The stand-in records
 * what the bundle asks of Electron, requests the app's pages through the protocol handler the
 * bundle registered, calls the IPC the way the window would, and quits; this module judges the
 * report.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ProfileStore } from '../../main/core/services/profileStore';
import { EMBEDDED_PROFILE_NAME } from '../../main/embeddedDefault';
import { APP_ORIGIN, contentSecurityPolicy } from '../../main/electron/appPage';
import { PROBE_DEV_URL, PROBE_URLS, type ProbeReport } from './packageProbeReport';
import { SERVER_SERVICE_NAME } from '../../main/electron/serverServiceName';

export interface ProbeExpectations {
  /** The packed `dist/renderer/index.html`. */
  readonly indexHtml: string;
  /** The packed `package.json` text: it must not come out of the protocol. */
  readonly packageJson: string;
}

/**
 * What is wrong with how the packed app registered, served and used `app://console/`, and ran
 * its embedded server.
 * @returns one sentence per problem; empty when all is as it must be
 */
export function probeProblems(report: ProbeReport, expected: ProbeExpectations): string[] {
  const problems: string[] = [];
  const csp = contentSecurityPolicy({ kind: 'app', rendererDir: '' });
  const appScheme = report.privileged.flatMap((call) =>
    Array.isArray(call.schemes)
      ? (call.schemes as { scheme?: unknown; privileges?: Record<string, unknown> }[])
          .filter((s) => s.scheme === 'app')
          .map((s) => ({ privileges: s.privileges ?? {}, afterReady: call.afterReady }))
      : [],
  );
  const privileged = appScheme[0];
  if (privileged === undefined) problems.push('app: is not registered as a privileged scheme');
  else {
    if (privileged.afterReady) problems.push('app: is registered as privileged after the app was ready');
    for (const p of ['standard', 'secure', 'supportFetchAPI']) {
      if (privileged.privileges[p] !== true) problems.push(`app: lacks the ${p} privilege`);
    }
  }
  if (!report.handled.includes('app')) problems.push('no protocol.handle handler serves app:');
  if (report.loads.length !== 1 || report.loads[0] !== `url ${APP_ORIGIN}/`) {
    problems.push(
      `the window must load exactly ${APP_ORIGIN}/ (a packaged app ignores DESCARTES_RENDERER_URL), loaded: ${report.loads.join(', ') || 'nothing'}`,
    );
  }
  const byUrl = new Map(report.responses.map((r) => [r.url, r]));
  for (const url of PROBE_URLS) {
    const r = byUrl.get(url);
    if (r === undefined) {
      problems.push(`${url} was not answered`);
      continue;
    }
    if (r.csp !== csp) problems.push(`${url} came without the app's Content-Security-Policy header`);
    if (r.body.includes(expected.packageJson.slice(0, 200))) problems.push(`${url} served package.json`);
  }
  for (const url of [`${APP_ORIGIN}/`, `${APP_ORIGIN}/index.html`]) {
    const r = byUrl.get(url);
    if (r === undefined) continue;
    if (r.status !== 200 || r.body !== expected.indexHtml)
      problems.push(`${url} is not the packed index.html`);
    if (!(r.contentType ?? '').startsWith('text/html')) {
      problems.push(`${url} is served as ${String(r.contentType)}, not text/html`);
    }
  }
  for (const url of PROBE_URLS.slice(2)) {
    const r = byUrl.get(url);
    if (r !== undefined && r.status < 400) problems.push(`${url} was answered ${r.status}, must be refused`);
  }
  const fromApp = report.ipc.fromApp as { ok?: unknown; value?: { embeddedServer?: unknown } } | null;
  if (fromApp?.ok !== true)
    problems.push(`the app page's IPC call failed: ${JSON.stringify(report.ipc.fromApp)}`);
  const fromFile = report.ipc.fromFile as { ok?: unknown; error?: { code?: unknown } } | null;
  if (fromFile?.ok !== false || fromFile.error?.code !== 'forbidden') {
    problems.push(`a file:// page's IPC call was not refused: ${JSON.stringify(report.ipc.fromFile)}`);
  }
  const server = report.forks.filter((f) => f.modulePath === 'dist/server/cli.cjs');
  if (server.length !== 1 || report.forks.length !== 1) {
    problems.push(
      `the embedded server must be one utilityProcess.fork of dist/server/cli.cjs, forks: ${JSON.stringify(report.forks.map((f) => f.modulePath))}`,
    );
  }
  for (const f of server) {
    if (f.serviceName !== SERVER_SERVICE_NAME)
      problems.push(`the server's serviceName is ${String(f.serviceName)}`);
    if (f.stdio !== 'pipe') problems.push(`the server's stdio is ${JSON.stringify(f.stdio)}, not pipe`);
    if (f.runAsNode) problems.push('the server was given ELECTRON_RUN_AS_NODE');
    if (f.aliveAtExit) problems.push('the embedded server was still running when the app exited');
  }
  if (fromApp?.ok === true && (fromApp.value?.embeddedServer ?? null) === null) {
    problems.push('the packed embedded server did not come up (appInfo has no embeddedServer)');
  }
  for (const d of report.dialogs) problems.push(`the app showed a dialog: ${d}`);
  if (report.exitCode !== 0) problems.push(`the app exited with ${String(report.exitCode)} on quit, not 0`);
  return problems;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The console's embedded-server profile at `port`, so the probe's server starts there instead of
 * at 5555 (the app keeps an embedded profile's port when it is free).
 */
function seedEmbeddedProfile(dataDir: string, port: number): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  new ProfileStore(dataDir).add(
    { name: EMBEDDED_PROFILE_NAME, endpoint: `tcp://127.0.0.1:${port}`, security: { mode: 'plain' } },
    true,
  );
}

export interface ProbeOptions {
  /** The extracted `app.asar` (with its unpacked files in place). */
  readonly appDir: string;
  /** A scratch folder for the data dir and the report. */
  readonly workDir: string;
  /** Port the embedded server is tried on first. */
  readonly serverPort: number;
  readonly timeoutMs?: number;
}

/**
 * Runs the extracted app's main bundle (package.json `main`) with this Node and the stand-in
 * Electron, and returns what it saw.
 * @throws Error when the bundle does not finish in time or writes no report (its output is in the message)
 */
export async function runPackageProbe(options: ProbeOptions): Promise<ProbeReport> {
  const { appDir, workDir } = options;
  const electronDir = join(appDir, 'node_modules', 'electron');
  await build({
    entryPoints: [join(HERE, 'packageProbeElectron.ts')],
    outfile: join(electronDir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  writeFileSync(join(electronDir, 'package.json'), '{"name":"electron","main":"index.js"}\n');
  const dataDir = join(workDir, 'data');
  seedEmbeddedProfile(dataDir, options.serverPort);
  const reportPath = join(workDir, 'probe-report.json');
  const main = (JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { main: string }).main;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(appDir, main)], {
      cwd: workDir,
      env: {
        ...process.env,
        DESCARTES_DATA_DIR: dataDir,
        DESCARTES_RENDERER_URL: PROBE_DEV_URL,
        DESCARTES_PROBE_REPORT: reportPath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString('utf8')).slice(-32 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`the packed main bundle did not quit within ${options.timeoutMs ?? 60_000} ms:\n${log}`),
      );
    }, options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(log);
    });
  });
  try {
    return JSON.parse(readFileSync(reportPath, 'utf8')) as ProbeReport;
  } catch {
    throw new Error(`the packed main bundle wrote no probe report:\n${output}`);
  }
}
