/**
 * Transport security in the UI: the server form's key / plain choice, Test connection's answer
 * for every outcome, and what server cards and the servers view say about security.
 */
import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installApi } from '../../../../renderer/src/api';
import ServerForm from '../../../../renderer/src/components/ServerForm.vue';
import ServersView from '../../../../renderer/src/views/ServersView.vue';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { allowCommand, curveKeyFingerprint } from '../../../../shared/domain/curveKey';
import type {
  ConnectionTestOutcome,
  HandshakeProblem,
  ServerProfile,
} from '../../../../shared/domain/server';
import { fail } from '../../../../shared/ipc';
import { CLIENT_KEY, CURVE, PLAIN, SERVER_KEY, connectionTest, serverStatus } from '../fakeApi';
import { settle, withFreshApp } from '../setup';

const sel = (id: string): string => `[data-testid="${id}"]`;

/** Replaces `navigator.clipboard` for one test; returns the writeText mock. */
function stubClipboard(writeText: (text: string) => Promise<void>): ReturnType<typeof vi.fn> {
  const mock = vi.fn(writeText);
  Object.defineProperty(navigator, 'clipboard', { value: { writeText: mock }, configurable: true });
  return mock;
}

function profile(over: Partial<ServerProfile> = {}): ServerProfile {
  return {
    id: '00000000-0000-4000-8000-0000000000aa',
    name: 'lab',
    endpoint: 'tcp://10.0.0.9:5555',
    heartbeatIntervalMs: null,
    embedded: false,
    security: CURVE,
    ...over,
  };
}

describe('ServerForm: security', () => {
  const ctx = withFreshApp();
  let wrapper: VueWrapper;
  afterEach(() => {
    wrapper.unmount();
  });

  function mountForm(p: ServerProfile | null = null): VueWrapper {
    wrapper = mount(ServerForm, {
      props: { profile: p },
      attachTo: document.body,
      global: { plugins: [ctx.pinia] },
    });
    return wrapper;
  }

  async function fillNameAndEndpoint(): Promise<void> {
    await wrapper.get(sel('server-name')).setValue('lab');
    await wrapper.get(sel('server-endpoint')).setValue('tcp://10.0.0.9:5555');
  }

  async function submit(): Promise<void> {
    await wrapper.get(sel('server-form')).trigger('submit');
    await settle();
  }

  it('defaults to encrypted and will not add a server without a valid key', async () => {
    mountForm();
    const curve = wrapper.get<HTMLInputElement>(sel('server-security-curve')).element;
    const plain = wrapper.get<HTMLInputElement>(sel('server-security-plain')).element;
    expect(curve.checked).toBe(true);
    expect(plain.checked).toBe(false);
    expect(wrapper.text()).toContain('npm run server -- key');
    await fillNameAndEndpoint();
    await submit();
    expect(wrapper.get(sel('server-key-error')).text()).toContain('server key is required');
    expect(wrapper.get(sel('server-key')).attributes('aria-invalid')).toBe('true');
    expect(ctx.fake.callsOf('addServer')).toHaveLength(0);
    expect(wrapper.emitted('done')).toBeUndefined();
  });

  it('checks the key while it is typed and takes a pasted key with whitespace around and inside it', async () => {
    mountForm();
    await fillNameAndEndpoint();
    await wrapper.get(sel('server-key')).setValue(SERVER_KEY.slice(0, 39));
    // Live: no submit needed for the parser's message.
    expect(wrapper.get(sel('server-key-error')).text()).toContain('got 39');
    await wrapper.get(sel('server-key')).setValue(`  ${SERVER_KEY.slice(0, 20)}\n${SERVER_KEY.slice(20)}\n`);
    expect(wrapper.get<HTMLInputElement>(sel('server-key')).element.value).toBe(SERVER_KEY);
    expect(wrapper.find(sel('server-key-error')).exists()).toBe(false);
    expect(wrapper.get(sel('server-key-fingerprint')).text()).toContain(curveKeyFingerprint(SERVER_KEY));
    await submit();
    expect(ctx.fake.callsOf('addServer')).toEqual([
      { name: 'lab', endpoint: 'tcp://10.0.0.9:5555', heartbeatIntervalMs: null, security: CURVE },
    ]);
    expect(wrapper.emitted('done')).toHaveLength(1);
  });

  it('names a character that is not Z85', async () => {
    mountForm();
    await wrapper.get(sel('server-key')).setValue(`${SERVER_KEY.slice(0, 39)}"`);
    expect(wrapper.get(sel('server-key-error')).text()).toMatch(/'"' at position 40/);
  });

  it('makes a plain profile only after the explicit confirmation, with the warning in view', async () => {
    mountForm();
    await fillNameAndEndpoint();
    expect(wrapper.find(sel('server-plain-warning')).exists()).toBe(false);
    await wrapper.get(sel('server-security-plain')).setValue(true);
    expect(wrapper.find(sel('server-key')).exists()).toBe(false);
    expect(wrapper.get(sel('server-plain-warning')).text()).toContain('Not encrypted');
    await submit();
    expect(wrapper.get(sel('server-plain-error')).text()).toContain('Confirm plain mode');
    expect(ctx.fake.callsOf('addServer')).toHaveLength(0);
    await wrapper.get(sel('server-plain-confirm')).setValue(true);
    await submit();
    expect(ctx.fake.callsOf('addServer')).toEqual([
      { name: 'lab', endpoint: 'tcp://10.0.0.9:5555', heartbeatIntervalMs: null, security: PLAIN },
    ]);
  });

  it('shows an encrypted profile’s pinned key when editing, and saves a new one', async () => {
    const id = ctx.fake.addServer('lab', {}, false, CURVE);
    const p = ctx.fake.servers[0]?.profile;
    if (!p) throw new Error('no profile');
    mountForm(p);
    expect(wrapper.get<HTMLInputElement>(sel('server-security-curve')).element.checked).toBe(true);
    expect(wrapper.get<HTMLInputElement>(sel('server-key')).element.value).toBe(SERVER_KEY);
    await wrapper.get(sel('server-key')).setValue(CLIENT_KEY);
    await submit();
    expect(ctx.fake.callsOf('updateServer')).toEqual([
      {
        serverId: id,
        input: {
          name: 'lab',
          endpoint: 'tcp://127.0.0.1:19001',
          heartbeatIntervalMs: null,
          security: { mode: 'curve', serverKey: CLIENT_KEY },
        },
      },
    ]);
  });

  it('shows a plain profile as plain (already confirmed) when editing', () => {
    mountForm(profile({ security: PLAIN }));
    expect(wrapper.get<HTMLInputElement>(sel('server-security-plain')).element.checked).toBe(true);
    expect(wrapper.get<HTMLInputElement>(sel('server-plain-confirm')).element.checked).toBe(true);
    expect(wrapper.find(sel('server-plain-warning')).exists()).toBe(true);
  });

  it('does not let the operator change the embedded server’s managed security, and saves it unchanged', async () => {
    const id = ctx.fake.addServer('local', {}, true, CURVE);
    const p = ctx.fake.servers[0]?.profile;
    if (!p) throw new Error('no profile');
    mountForm(p);
    expect(wrapper.find(sel('server-security-curve')).exists()).toBe(false);
    expect(wrapper.find(sel('server-security-plain')).exists()).toBe(false);
    expect(wrapper.find(sel('server-key')).exists()).toBe(false);
    const managed = wrapper.get(sel('server-security-managed'));
    expect(managed.text()).toContain('Managed by the console');
    expect(managed.text()).toContain(curveKeyFingerprint(SERVER_KEY));
    await wrapper.get(sel('server-name')).setValue('local box');
    await submit();
    expect(ctx.fake.callsOf('updateServer')).toEqual([
      {
        serverId: id,
        input: { name: 'local box', endpoint: p.endpoint, heartbeatIntervalMs: null, security: CURVE },
      },
    ]);
  });

  describe('Test connection', () => {
    async function runTest(outcome: ConnectionTestOutcome, p: ServerProfile = profile()): Promise<void> {
      ctx.fake.nextTest = connectionTest(outcome);
      mountForm(p);
      await wrapper.get(sel('server-test')).trigger('click');
      await settle();
    }

    const expected: Record<ConnectionTestOutcome, { tone: string; title: string }> = {
      ok: { tone: 'ok', title: 'Connected' },
      unreachable: { tone: 'error', title: 'Unreachable' },
      no_reply: { tone: 'error', title: 'No reply' },
      key_not_allowed: { tone: 'error', title: "This console's key is not allowed" },
      server_key_mismatch: { tone: 'error', title: 'Server key mismatch' },
      server_is_plain: { tone: 'warn', title: 'Server is not encrypted' },
      server_is_encrypted: { tone: 'warn', title: 'Server requires encryption' },
    };

    it.each(Object.keys(expected) as ConnectionTestOutcome[])(
      '%s: its own title, tone and the main process message; success only for ok',
      async (outcome) => {
        await runTest(outcome, outcome === 'server_is_encrypted' ? profile({ security: PLAIN }) : profile());
        expect(ctx.fake.callsOf('testConnection')).toEqual([
          {
            endpoint: 'tcp://10.0.0.9:5555',
            security: outcome === 'server_is_encrypted' ? PLAIN : CURVE,
          },
        ]);
        const region = wrapper.get(sel('server-test-result'));
        expect(region.attributes('aria-live')).toBe('polite');
        expect(region.attributes('data-outcome')).toBe(outcome);
        const notice = wrapper.get(sel('server-test-notice'));
        expect(notice.attributes('data-tone')).toBe(expected[outcome].tone);
        expect(wrapper.get(sel('server-test-notice-title')).text()).toBe(expected[outcome].title);
        expect(wrapper.get(sel('server-test-notice-detail')).text()).toBe(
          `Details: ${ctx.fake.nextTest.message}`,
        );
        if (outcome !== 'ok') {
          // What the console itself says (the main process's details may mention a connection).
          expect(wrapper.get(sel('server-test-notice-title')).text()).not.toMatch(/connected|success/i);
          expect(wrapper.get(sel('server-test-notice-advice')).text()).not.toMatch(/connected|success/i);
          expect(notice.attributes('data-tone')).not.toBe('ok');
        }
      },
    );

    it('ok names the remote server and the security it reports', async () => {
      await runTest('ok');
      expect(wrapper.get(sel('server-test-notice-advice')).text()).toBe(
        'Server “srv-remote” answered in 12 ms. It reports: encrypted (CurveZMQ).',
      );
    });

    it('ok over a plain profile still warns that nothing is encrypted', async () => {
      ctx.fake.nextTest = connectionTest('ok', { serverSecurity: 'none' });
      mountForm(profile({ security: PLAIN }));
      await wrapper.get(sel('server-test')).trigger('click');
      await settle();
      expect(wrapper.get(sel('server-test-notice')).attributes('data-tone')).toBe('warn');
      expect(wrapper.get(sel('server-test-notice-title')).text()).toBe('Connected — not encrypted');
      expect(wrapper.get(sel('server-test-notice-advice')).text()).toContain('not encrypted (plain ZMTP)');
    });

    it('key_not_allowed shows this console’s key and the allow line, each with a working Copy', async () => {
      const writeText = stubClipboard(() => Promise.resolve());
      await runTest('key_not_allowed');
      await settle();
      const help = wrapper.get(sel('server-test-notice-client-key'));
      expect(help.get(sel('server-test-notice-client-key-public-text')).text()).toBe(CLIENT_KEY);
      expect(help.get(sel('server-test-notice-client-key-fingerprint')).text()).toBe(
        curveKeyFingerprint(CLIENT_KEY),
      );
      expect(help.get(sel('server-test-notice-client-key-allow-text')).text()).toBe(allowCommand(CLIENT_KEY));
      expect(allowCommand(CLIENT_KEY)).toBe(`npm run server -- allow '${CLIENT_KEY}'`);
      await help.get(sel('server-test-notice-client-key-allow-copy')).trigger('click');
      await settle();
      expect(writeText).toHaveBeenCalledWith(`npm run server -- allow '${CLIENT_KEY}'`);
      expect(help.get(sel('server-test-notice-client-key-allow-copy-status')).text()).toBe(
        'Copied to the clipboard.',
      );
      await help.get(sel('server-test-notice-client-key-public-copy')).trigger('click');
      await settle();
      expect(writeText).toHaveBeenLastCalledWith(CLIENT_KEY);
    });

    it('a refused clipboard selects the text and says to press Ctrl+C', async () => {
      stubClipboard(() => Promise.reject(new DOMException('denied', 'NotAllowedError')));
      await runTest('key_not_allowed');
      await settle();
      await wrapper.get(sel('server-test-notice-client-key-allow-copy')).trigger('click');
      await settle();
      expect(wrapper.get(sel('server-test-notice-client-key-allow-copy-status')).text()).toContain(
        'Could not copy: the text is selected, press Ctrl+C',
      );
      expect(window.getSelection()?.toString()).toBe(allowCommand(CLIENT_KEY));
    });

    it('only key_not_allowed shows the allow line', async () => {
      await runTest('server_key_mismatch');
      expect(wrapper.find(sel('server-test-notice-client-key')).exists()).toBe(false);
      // A wrong pinned key: point at the command that prints the right one.
      expect(wrapper.get(sel('server-test-notice-command-text')).text()).toBe('npm run server -- key');
    });

    it('shows a busy state until the answer arrives and does not start a second test meanwhile', async () => {
      let release: () => void = () => undefined;
      ctx.fake.testGate = new Promise<void>((resolve) => {
        release = resolve;
      });
      ctx.fake.nextTest = connectionTest('unreachable');
      mountForm(profile());
      await wrapper.get(sel('server-test')).trigger('click');
      await settle();
      const button = wrapper.get(sel('server-test'));
      expect(button.attributes('disabled')).toBeDefined();
      expect(button.attributes('aria-busy')).toBe('true');
      expect(button.text()).toBe('Testing…');
      expect(wrapper.get(sel('server-test-busy')).text()).toContain('tcp://10.0.0.9:5555');
      expect(wrapper.find(sel('server-test-notice')).exists()).toBe(false);
      release();
      await settle();
      expect(wrapper.get(sel('server-test')).attributes('disabled')).toBeUndefined();
      expect(wrapper.get(sel('server-test-notice-title')).text()).toBe('Unreachable');
      expect(ctx.fake.callsOf('testConnection')).toHaveLength(1);
    });

    it('drops a result when the key it was tested with changes, even one still on its way', async () => {
      await runTest('server_key_mismatch');
      expect(wrapper.find(sel('server-test-notice')).exists()).toBe(true);
      await wrapper.get(sel('server-key')).setValue(CLIENT_KEY);
      expect(wrapper.find(sel('server-test-notice')).exists()).toBe(false);

      let release: () => void = () => undefined;
      ctx.fake.testGate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await wrapper.get(sel('server-test')).trigger('click');
      await settle();
      await wrapper.get(sel('server-endpoint')).setValue('tcp://10.0.0.10:5555');
      release();
      await settle();
      expect(wrapper.find(sel('server-test-notice')).exists()).toBe(false);
      expect(wrapper.get(sel('server-test')).text()).toBe('Test connection');
    });

    it('does not test invalid settings; says why next to the fields', async () => {
      mountForm();
      await wrapper.get(sel('server-endpoint')).setValue('10.0.0.9:5555');
      await wrapper.get(sel('server-test')).trigger('click');
      await settle();
      expect(ctx.fake.callsOf('testConnection')).toHaveLength(0);
      expect(wrapper.get(sel('server-test-invalid')).text()).toContain('Not tested');
      expect(wrapper.get(sel('server-endpoint-error')).text()).toBe(
        'endpoint must look like tcp://host:port',
      );
      expect(wrapper.get(sel('server-key-error')).text()).toContain('server key is required');
      expect(wrapper.find(sel('server-test-notice')).exists()).toBe(false);
    });

    it('a failed IPC call is an error, not a result', async () => {
      mountForm(profile());
      const api = ctx.fake.api();
      api.testConnection = () => Promise.resolve(fail('internal', 'boom'));
      installApi(api);
      await wrapper.get(sel('server-test')).trigger('click');
      await settle();
      expect(wrapper.get(sel('server-test-invalid')).text()).toContain(
        'Could not test the connection: boom.',
      );
      expect(wrapper.get(sel('server-test-result')).text()).not.toMatch(/connected/i);
    });

    it('server_is_plain offers plain mode, which still needs the confirmation', async () => {
      await runTest('server_is_plain');
      await wrapper.get(sel('server-test-use-plain')).trigger('click');
      await settle();
      expect(wrapper.get<HTMLInputElement>(sel('server-security-plain')).element.checked).toBe(true);
      expect(wrapper.get<HTMLInputElement>(sel('server-plain-confirm')).element.checked).toBe(false);
      await submit();
      expect(ctx.fake.callsOf('updateServer')).toHaveLength(0);
    });

    it('server_is_encrypted offers to switch a plain profile to encrypted and focuses the key', async () => {
      await runTest('server_is_encrypted', profile({ security: PLAIN }));
      await wrapper.get(sel('server-test-use-curve')).trigger('click');
      await settle();
      expect(wrapper.get<HTMLInputElement>(sel('server-security-curve')).element.checked).toBe(true);
      expect(document.activeElement).toBe(wrapper.get(sel('server-key')).element);
    });
  });
});

describe('ServersView: security on the cards', () => {
  const ctx = withFreshApp();
  let wrapper: VueWrapper;
  afterEach(() => {
    wrapper.unmount();
  });

  async function mountView(): Promise<void> {
    wrapper = mount(ServersView, { attachTo: document.body, global: { plugins: [ctx.pinia] } });
    await useServersStore().start();
    await settle();
  }

  function card(name: string): ReturnType<VueWrapper['get']> {
    const found = wrapper
      .findAll(sel('server-card'))
      .find((c) => c.get(sel('server-card-name')).text() === name);
    if (!found) throw new Error(`no card ${name}`);
    return found;
  }

  it('an encrypted server shows its key’s fingerprint; a plain one a “not encrypted” badge', async () => {
    ctx.fake.addServer('secure', {}, false, CURVE);
    ctx.fake.addServer('rust peer', {}, false, PLAIN);
    await mountView();
    const secure = card('secure').get(sel('server-security'));
    expect(secure.attributes('data-mode')).toBe('curve');
    expect(secure.text()).toContain('encrypted');
    expect(secure.text()).not.toContain('not encrypted');
    expect(secure.get(sel('security-fingerprint')).text()).toBe(curveKeyFingerprint(SERVER_KEY));
    expect(curveKeyFingerprint(SERVER_KEY)).toMatch(/^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/);
    const plain = card('rust peer').get(sel('server-security'));
    expect(plain.attributes('data-mode')).toBe('plain');
    expect(plain.text()).toContain('not encrypted');
    expect(plain.classes()).toContain('security-plain');
    expect(plain.find(sel('security-fingerprint')).exists()).toBe(false);
  });

  const problems: Record<HandshakeProblem, string> = {
    key_not_allowed: "This console's key is not allowed",
    server_key_mismatch: 'Server key mismatch',
    server_is_plain: 'Server is not encrypted',
    server_is_encrypted: 'Server requires encryption',
  };

  it.each(Object.keys(problems) as HandshakeProblem[])(
    'a %s handshake problem is said in words on its card',
    async (problem) => {
      ctx.fake.addServer('lab', {
        state: 'offline',
        handshakeProblem: problem,
        lastError: 'handshake failed',
      });
      ctx.fake.addServer('fine');
      await mountView();
      expect(card('lab').get(sel('server-handshake-title')).text()).toBe(problems[problem]);
      // One box: the raw error is its details, not a second banner.
      expect(card('lab').get(sel('server-handshake-detail')).text()).toBe('Details: handshake failed');
      expect(card('lab').find(sel('server-error')).exists()).toBe(false);
      expect(card('fine').find(sel('server-handshake')).exists()).toBe(false);
      // Only a refused client key needs the allow line.
      expect(card('lab').find(sel('server-handshake-client-key')).exists()).toBe(
        problem === 'key_not_allowed',
      );
    },
  );

  it('key_not_allowed on a card gives the allow line; the problem follows pushed states', async () => {
    const id = ctx.fake.addServer('lab');
    await mountView();
    expect(card('lab').find(sel('server-handshake')).exists()).toBe(false);
    ctx.fake.emit('servers', [serverStatus(id, { state: 'offline', handshakeProblem: 'key_not_allowed' })]);
    await settle();
    expect(card('lab').get(sel('server-handshake-client-key-allow-text')).text()).toBe(
      allowCommand(CLIENT_KEY),
    );
    expect(card('lab').find(sel('server-handshake-client-key-allow-copy')).exists()).toBe(true);
    ctx.fake.emit('servers', [serverStatus(id, { state: 'online', handshakeProblem: null })]);
    await settle();
    expect(card('lab').find(sel('server-handshake')).exists()).toBe(false);
  });

  it('the header shows this console’s public key and fingerprint with a Copy button', async () => {
    const writeText = stubClipboard(() => Promise.resolve());
    await mountView();
    const section = wrapper.get(sel('this-console'));
    expect(section.get(sel('this-console-key-public-text')).text()).toBe(CLIENT_KEY);
    expect(section.get(sel('this-console-key-fingerprint')).text()).toBe(curveKeyFingerprint(CLIENT_KEY));
    await section.get(sel('this-console-key-public-copy')).trigger('click');
    await settle();
    expect(writeText).toHaveBeenCalledWith(CLIENT_KEY);
    // One request for the key, however many places show it.
    expect(ctx.fake.callsOf('clientKey')).toHaveLength(1);
  });

  it('says so when this console’s key cannot be read', async () => {
    ctx.fake.clientKeyResult = fail('internal', 'key file unreadable');
    await mountView();
    expect(wrapper.get(sel('this-console-key-error')).text()).toContain(
      "Could not read this console's key: key file unreadable.",
    );
  });
});
