import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../../main/electron/appPage';
import { probeProblems } from '../../../../scripts/package/packageProbe';
import {
  PROBE_URLS,
  type ProbeReport,
  type ProbeResponse,
} from '../../../../scripts/package/packageProbeReport';

const CSP = contentSecurityPolicy({ kind: 'app', rendererDir: '/anywhere' });
const INDEX = '<!doctype html><title>Descartes Console</title>';
const PACKAGE_JSON =
  '{\n  "name": "descartes-console",\n  "version": "0.1.0",\n  "main": "dist/electron/main.cjs"\n}\n';
const EXPECTED = { indexHtml: INDEX, packageJson: PACKAGE_JSON };

const answer = (
  url: string,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): ProbeResponse => ({
  url,
  status,
  contentType: type,
  csp: CSP,
  body,
});

/** What the packed app reports when all is right (as check:package saw it on this machine). */
const GOOD: ProbeReport = {
  privileged: [
    {
      schemes: [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }],
      afterReady: false,
    },
  ],
  handled: ['app'],
  loads: ['url app://console/'],
  responses: [
    answer('app://console/', 200, INDEX, 'text/html; charset=utf-8'),
    answer('app://console/index.html', 200, INDEX, 'text/html; charset=utf-8'),
    answer('app://console/../../package.json', 404, '404 Not Found\n'),
    answer('app://console/..%2f..%2fpackage.json', 403, '403 Forbidden\n'),
    answer('app://elsewhere/index.html', 404, '404 Not Found\n'),
  ],
  ipc: {
    fromApp: {
      ok: true,
      value: { host: 'electron', embeddedServer: { serverId: 's', endpoint: 'tcp://127.0.0.1:24750' } },
    },
    fromFile: { ok: false, error: { code: 'forbidden', message: 'refused' } },
  },
  forks: [
    {
      modulePath: 'dist/server/cli.cjs',
      serviceName: 'Descartes agent server',
      stdio: 'pipe',
      runAsNode: false,
      aliveAtExit: false,
    },
  ],
  dialogs: [],
  exitCode: 0,
};

const respond = (url: string, patch: Partial<ProbeResponse>): ProbeResponse[] =>
  GOOD.responses.map((r) => (r.url === url ? { ...r, ...patch } : r));

describe('probeProblems', () => {
  it('accepts the packed app that registers, serves and uses app://console/ as it must', () => {
    expect(GOOD.responses.map((r) => r.url)).toEqual([...PROBE_URLS]);
    expect(probeProblems(GOOD, EXPECTED)).toEqual([]);
  });

  it('wants app: privileged before ready, with standard, secure and fetch', () => {
    expect(probeProblems({ ...GOOD, privileged: [] }, EXPECTED)).toEqual([
      'app: is not registered as a privileged scheme',
    ]);
    expect(
      probeProblems(
        {
          ...GOOD,
          privileged: [{ schemes: [{ scheme: 'app', privileges: { standard: true } }], afterReady: true }],
        },
        EXPECTED,
      ),
    ).toEqual([
      'app: is registered as privileged after the app was ready',
      'app: lacks the secure privilege',
      'app: lacks the supportFetchAPI privilege',
    ]);
  });

  it('wants the window on app://console/ only, never file:// nor the dev URL', () => {
    expect(
      probeProblems({ ...GOOD, handled: [], loads: ['file /app/dist/renderer/index.html'] }, EXPECTED),
    ).toEqual([
      'no protocol.handle handler serves app:',
      'the window must load exactly app://console/ (a packaged app ignores DESCARTES_RENDERER_URL), loaded: file /app/dist/renderer/index.html',
    ]);
    expect(probeProblems({ ...GOOD, loads: ['url http://127.0.0.1:24799/'] }, EXPECTED)).toHaveLength(1);
  });

  it('wants the packed index.html as text/html with the CSP, and every refusal refused', () => {
    expect(
      probeProblems(
        {
          ...GOOD,
          responses: respond('app://console/', { csp: null, contentType: 'text/plain', body: 'x' }),
        },
        EXPECTED,
      ),
    ).toEqual([
      "app://console/ came without the app's Content-Security-Policy header",
      'app://console/ is not the packed index.html',
      'app://console/ is served as text/plain, not text/html',
    ]);
    expect(
      probeProblems(
        {
          ...GOOD,
          responses: respond('app://console/..%2f..%2fpackage.json', { status: 200, body: PACKAGE_JSON }),
        },
        EXPECTED,
      ),
    ).toEqual([
      'app://console/..%2f..%2fpackage.json served package.json',
      'app://console/..%2f..%2fpackage.json was answered 200, must be refused',
    ]);
    expect(probeProblems({ ...GOOD, responses: GOOD.responses.slice(1) }, EXPECTED)).toEqual([
      'app://console/ was not answered',
    ]);
  });

  it('wants the IPC answered for the app origin only', () => {
    expect(
      probeProblems(
        { ...GOOD, ipc: { fromApp: { ok: false }, fromFile: { ok: true, value: {} } } },
        EXPECTED,
      ),
    ).toEqual([
      'the app page\'s IPC call failed: {"ok":false}',
      'a file:// page\'s IPC call was not refused: {"ok":true,"value":{}}',
    ]);
  });

  it('wants one utility process of the packed server, without RunAsNode, stopped on quit', () => {
    const [server] = GOOD.forks;
    if (server === undefined) throw new Error('GOOD has a fork');
    expect(
      probeProblems(
        {
          ...GOOD,
          forks: [{ ...server, serviceName: null, stdio: 'inherit', runAsNode: true, aliveAtExit: true }],
        },
        EXPECTED,
      ),
    ).toEqual([
      "the server's serviceName is null",
      'the server\'s stdio is "inherit", not pipe',
      'the server was given ELECTRON_RUN_AS_NODE',
      'the embedded server was still running when the app exited',
    ]);
    expect(probeProblems({ ...GOOD, forks: [] }, EXPECTED)).toEqual([
      'the embedded server must be one utilityProcess.fork of dist/server/cli.cjs, forks: []',
    ]);
    expect(
      probeProblems(
        { ...GOOD, ipc: { ...GOOD.ipc, fromApp: { ok: true, value: { embeddedServer: null } } } },
        EXPECTED,
      ),
    ).toEqual(['the packed embedded server did not come up (appInfo has no embeddedServer)']);
  });

  it('wants no dialog and a clean exit on quit', () => {
    expect(
      probeProblems({ ...GOOD, dialogs: ['The local agent server did not start: x'], exitCode: 1 }, EXPECTED),
    ).toEqual([
      'the app showed a dialog: The local agent server did not start: x',
      'the app exited with 1 on quit, not 0',
    ]);
  });
});
