import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateCurveKeyPair } from '../../../../shared/node/curveKeyPair';
import { startEmbeddedServer, type EmbeddedServer, type ServerExit } from '../../../../main/embeddedServer';
import { SERVER_SERVICE_NAME } from '../../../../main/electron/serverServiceName';
import { utilityServerLauncher } from '../../../../main/electron/utilityServer';
import { electron, resetElectron } from './electronStandIn';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

/**
 * A stand-in agent server: records its argv, cwd and environment, prints the ready line and
 * then behaves as FAKE_SERVER_MODE says (normal: exits 0 on SIGTERM; stubborn: ignores it;
 * crash: dies with code 7 soon after ready; early-exit: dies before ready).
 */
const FAKE_SERVER = `
const { writeFileSync } = require('node:fs');
const mode = process.env.FAKE_SERVER_MODE || 'normal';
writeFileSync('seen.json', JSON.stringify({
  args: process.argv.slice(2),
  cwd: process.cwd(),
  runAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null,
}));
if (mode === 'early-exit') {
  process.stderr.write('descartes-server: cannot bind: boom\\n');
  process.exit(3);
}
process.on('SIGTERM', () => {
  if (mode === 'stubborn') return;
  writeFileSync('sigterm', '');
  process.exit(0);
});
process.stdout.write(JSON.stringify({ event: 'ready', server_id: 'fake-1', public_key: process.env.FAKE_KEY, security: 'curve' }) + '\\n');
if (mode === 'crash') setTimeout(() => { process.stderr.write('descartes-server: fatal: out of cheese\\n'); process.exit(7); }, 100);
setInterval(() => {}, 1000);
`;

const CLIENT = generateCurveKeyPair().publicKey;
const SERVER_KEY = generateCurveKeyPair().publicKey;

describe('embedded server in a utility process', () => {
  let dir: string;
  let entry: string;
  const started: EmbeddedServer[] = [];

  const start = (mode: string, onUnexpectedExit?: (exit: ServerExit & { stderr: string }) => void) =>
    startEmbeddedServer({
      dataDir: dir,
      clientPublicKey: CLIENT,
      preferredPort: 24610,
      readyTimeoutMs: 10_000,
      launcher: utilityServerLauncher({
        entry,
        cwd: dir,
        env: { ...process.env, FAKE_SERVER_MODE: mode, FAKE_KEY: SERVER_KEY },
      }),
      ...(onUnexpectedExit === undefined ? {} : { onUnexpectedExit }),
    }).then((server) => {
      started.push(server);
      return server;
    });

  const seen = (): { args: string[]; cwd: string; runAsNode: string | null } =>
    JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) as {
      args: string[];
      cwd: string;
      runAsNode: string | null;
    };

  beforeEach(async () => {
    resetElectron();
    await electron.app.whenReady();
    dir = mkdtempSync(join(tmpdir(), 'descartes-utility-'));
    entry = join(dir, 'fake-server.cjs');
    writeFileSync(entry, FAKE_SERVER);
  });

  afterEach(async () => {
    for (const server of started.splice(0)) await server.stop(1000);
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forks the entry with the server arguments, piped stdio and its service name, and reads the ready line', async () => {
    // Even if the console itself was started with it, the utility process must not get it.
    vi.stubEnv('ELECTRON_RUN_AS_NODE', '1');
    const server = await start('normal');
    expect(server).toMatchObject({
      serverId: 'fake-1',
      publicKey: SERVER_KEY,
      endpoint: 'tcp://127.0.0.1:24610',
    });
    const [fork] = electron.utilityProcess.forks;
    expect(fork?.modulePath).toBe(entry);
    expect(fork?.options).toMatchObject({ cwd: dir, stdio: 'pipe', serviceName: SERVER_SERVICE_NAME });
    expect(fork?.options.execArgv).toBeUndefined();
    expect(server.pid).toBe(fork?.pid);
    expect(seen()).toEqual({
      args: [
        '--bind',
        'tcp://127.0.0.1:24610',
        '--pub',
        'tcp://127.0.0.1:24611',
        '--state-dir',
        join(dir, 'embedded-server'),
        '--parent-pid',
        String(process.pid),
        '--allow-client',
        CLIENT,
      ],
      cwd: dir,
      runAsNode: null,
    });
  });

  it('stop() asks it to stop (SIGTERM) and resolves once it has exited', async () => {
    const crashed = vi.fn();
    const server = await start('normal', crashed);
    await server.stop();
    expect(existsSync(join(dir, 'sigterm'))).toBe(true);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(electron.utilityProcess.forks[0]?.pid).toBeUndefined();
    expect(crashed).not.toHaveBeenCalled();
  });

  it('stop() kills a server that ignores SIGTERM after the timeout', async () => {
    const server = await start('stubborn');
    const begun = Date.now();
    await server.stop(300);
    expect(Date.now() - begun).toBeGreaterThanOrEqual(250);
    // After UtilityProcess.kill() Electron reports a SIGTERM or SIGKILL end as code 0.
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(() => process.kill(server.pid, 0)).toThrow();
  });

  it('reports a server that dies after it was ready, with the end of its stderr', async () => {
    const crashed = vi.fn();
    const server = await start('crash', crashed);
    expect(await server.exited).toEqual({ code: 7, signal: null });
    await vi.waitFor(() => {
      expect(crashed).toHaveBeenCalledTimes(1);
    });
    expect(crashed).toHaveBeenCalledWith({
      code: 7,
      signal: null,
      stderr: expect.stringContaining('fatal: out of cheese') as string,
    });
  });

  it('fails with the server stderr when it exits before it is ready', async () => {
    await expect(start('early-exit')).rejects.toThrow(
      /exited before it was ready \(code 3, signal null\): descartes-server: cannot bind: boom/,
    );
  });

  it('cannot start before the app is ready (Electron refuses the fork)', async () => {
    resetElectron();
    await expect(start('normal')).rejects.toThrow(/before app is ready/);
  });
});
