/// <reference types="mocha" />
/**
 * Transport security end to end, as an operator meets it: a real agent server over CURVE that
 * does not know this console yet. Test connection tells a wrong pinned key apart from the right
 * key with a console the server does not allow, and shows the allow line; running exactly that
 * line on the server's machine (its state dir) admits the console without a restart, the next
 * test connects, and the saved server's card says "encrypted" with the key's fingerprint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { $ } from '@wdio/globals';
import { curveKeyFingerprint } from '../../../shared/domain/curveKey';
import { REPO_ROOT } from '../../helpers/serverProcess';
import { e2eSuite } from '../helpers/e2eStack';
import {
  chooseSecurity,
  openConsole,
  serverCard,
  shot,
  tid,
  typeInto,
  UI_WAIT_MS,
  waitFor,
  waitServerState,
} from '../helpers/ui';

const SERVER = 'secure farm';
/** A well-formed public key of some other server (libzmq's test vector): not this server's. */
const WRONG_KEY = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7';

/** Clicks Test connection and waits for its outcome (`data-outcome` once the test is over). */
async function testConnection(): Promise<string> {
  await $(tid('server-test')).click();
  const outcome = { value: null as string | null };
  // The test itself gives up after 5 s; leave room for the IPC round trip.
  await waitFor(
    async () => {
      if ((await $(tid('server-test')).getAttribute('aria-busy')) === 'true') return false;
      outcome.value = await $(tid('server-test-result')).getAttribute('data-outcome');
      return outcome.value !== null;
    },
    'the Test connection outcome',
    UI_WAIT_MS,
  );
  return outcome.value ?? '';
}

async function noticeTitle(): Promise<string> {
  return (await $(tid('server-test-notice-title')).getText()).trim();
}

describe('security: Test connection against a real CURVE server, then allowing this console', function () {
  const suite = e2eSuite(3, async (stack) => {
    // The console is a stranger to this server until the operator runs the allow line.
    await stack.startServer({ allowConsole: false });
    await openConsole(await stack.startApp());
    await $(tid('nav-servers')).click();
    await $(tid('server-add')).click();
    await typeInto('server-name', SERVER);
    await typeInto('server-endpoint', stack.endpoint);
    await typeInto('server-heartbeat', '1000');
  });

  it('a wrong pinned key is a server key mismatch, not a connection', async function () {
    await chooseSecurity(WRONG_KEY);
    assert.equal(await testConnection(), 'server_key_mismatch');
    assert.equal(await noticeTitle(), 'Server key mismatch');
    assert.equal(await $(tid('server-test-notice')).getAttribute('data-tone'), 'error');
    assert.equal(await $(tid('server-test-notice-client-key')).isExisting(), false);
    await $(tid('server-test-result')).scrollIntoView({ block: 'center' });
    await shot('security-key-mismatch');
  });

  it('the right key, but this console is not allowed: shows its key and the allow line', async function () {
    await chooseSecurity(suite.stack.serverKey);
    assert.equal(await testConnection(), 'key_not_allowed');
    assert.equal(await noticeTitle(), "This console's key is not allowed");
    const consoleKey = suite.stack.consolePublicKey();
    await $(tid('server-test-notice-client-key-public-text')).waitForDisplayed({
      timeout: UI_WAIT_MS,
      timeoutMsg: "this console's key in the result",
    });
    assert.equal((await $(tid('server-test-notice-client-key-public-text')).getText()).trim(), consoleKey);
    const allowLine = (await $(tid('server-test-notice-client-key-allow-text')).getText()).trim();
    assert.match(allowLine, /^npm run server -- allow '/);
    assert.ok(allowLine.includes(`'${consoleKey}'`), allowLine);
    assert.equal(await $(tid('server-test-notice-client-key-allow-copy')).isDisplayed(), true);
    await $(tid('server-test-result')).scrollIntoView({ block: 'center' });
    await shot('security-key-not-allowed');
  });

  it('running the shown allow line admits the console; the test connects; the card says encrypted', async function () {
    const allowLine = (await $(tid('server-test-notice-client-key-allow-text')).getText()).trim();
    // On "the server's machine": the same repository, pointed at this server's state dir.
    await promisify(execFile)('bash', ['-c', `${allowLine} --state-dir '${suite.stack.serverStateDir}'`], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    // A running server rereads its allow list within 2 s: test until it admits us.
    let outcome = '';
    await waitFor(
      async () => {
        outcome = await testConnection();
        return outcome === 'ok';
      },
      'Test connection to succeed after allowing the console',
      30_000,
    );
    assert.equal(await noticeTitle(), 'Connected');
    assert.match(await $(tid('server-test-notice-advice')).getText(), /encrypted \(CurveZMQ\)/);

    await $(tid('server-save')).click();
    await waitServerState(SERVER, 'online', 20_000);
    const badge = (await serverCard(SERVER)).$(tid('server-security'));
    assert.equal(await badge.getAttribute('data-mode'), 'curve');
    assert.equal(
      (await badge.$(tid('security-fingerprint')).getText()).trim(),
      curveKeyFingerprint(suite.stack.serverKey),
    );
    await shot('security-encrypted-card');
  });
});
