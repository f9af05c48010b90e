import { describe, expect, it } from 'vitest';
import type { JsonValue, Uuid } from '../../../shared/protocol';
import { spawnAgent, waitForStatus, queryOutput } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import type { RawClient } from '../../helpers/rawClient';
import { customAction, spawnRequest } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(21600, 21699);

/** In the server's environment only: agents must not see it unless inherit_env lists it. */
const SECRET = 'descartes-secret-3f9a1c';
const SERVER_ENV = { DESCARTES_TEST_API_TOKEN: SECRET, LC_DESCARTES_TEST: 'lc-value' };

/** Runs `env` in an agent and returns its variables (name → value). */
async function agentEnv(
  client: RawClient,
  environment: Record<string, string> = {},
): Promise<Map<string, string>> {
  const agent = await spawnAgent(client, { name: 'env', model_backend: 'env', task: '', environment });
  await waitForStatus(client, agent.id, 'completed');
  const { lines } = await queryOutput(client, agent.id, 'stdout', { limit: 10_000 });
  const vars = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return vars;
}

async function getEnv(client: RawClient, agentId: Uuid): Promise<JsonValue | undefined> {
  const reply = await client.request(customAction(agentId, 'get_env'));
  expect(reply.success, reply.error ?? '').toBe(true);
  return reply.data;
}

describe('agent environment: allow-listed server variables, refused request variables (default config)', () => {
  const h = useServerHarness(ports, {
    env: SERVER_ENV,
    config: {
      backends: {
        env: { argv: ['env'] },
        env_with_loader: { argv: ['env'], env: { LD_LIBRARY_PATH: '/opt/descartes-test-lib' } },
      },
    },
  });

  it("a secret in the server's environment does not reach an agent; allow-listed variables do", async () => {
    const vars = await agentEnv(h.client, { REQUESTED: 'from-request' });
    expect(vars.has('DESCARTES_TEST_API_TOKEN')).toBe(false);
    expect([...vars.values()].join('\n')).not.toContain(SECRET);
    expect(vars.get('PATH')).toBe(process.env.PATH);
    expect(vars.get('HOME')).toBe(process.env.HOME);
    expect(vars.get('LC_DESCARTES_TEST')).toBe('lc-value'); // LC_* is a prefix entry
    expect(vars.get('REQUESTED')).toBe('from-request');
    expect(vars.get('DESCARTES_AGENT_ID')).toMatch(/^[0-9a-f-]{36}$/);
    // This test runner's own variables are the server's too, and not on the list.
    expect(vars.has('VITEST')).toBe(false);
  });

  it.each([
    'LD_PRELOAD',
    'NODE_OPTIONS',
    'ELECTRON_RUN_AS_NODE',
    'DYLD_INSERT_LIBRARIES',
    'BASH_ENV',
    'PATH',
  ])('a spawn request setting %s is refused with an error naming it', async (name) => {
    const reply = await h.client.request(
      spawnRequest({ model_backend: 'env', task: '', environment: { OK_VAR: '1', [name]: '/tmp/x' } }),
    );
    expect(reply.success).toBe(false);
    expect(reply.agent_info ?? null).toBeNull();
    expect(reply.error).toContain(`environment: ${name} may not be set by a spawn request`);
  });

  it("the backend's env from the operator's config file may set a loader variable", async () => {
    const agent = await spawnAgent(h.client, { name: 'env', model_backend: 'env_with_loader', task: '' });
    await waitForStatus(h.client, agent.id, 'completed');
    const { lines } = await queryOutput(h.client, agent.id, 'stdout', { limit: 10_000 });
    expect(lines).toContain('LD_LIBRARY_PATH=/opt/descartes-test-lib');
  });

  it('get_env returns names only', async () => {
    const agent = await spawnAgent(h.client, {
      name: 'env',
      model_backend: 'env',
      task: '',
      environment: { MY_API_TOKEN: 'tok-value', PLAIN: 'plain-value' },
    });
    const data = await getEnv(h.client, agent.id);
    expect(data).toMatchObject({
      names: expect.arrayContaining(['DESCARTES_AGENT_ID', 'MY_API_TOKEN', 'PATH', 'PLAIN']) as unknown,
      values: null,
    });
    const text = JSON.stringify(data);
    for (const value of ['tok-value', 'plain-value', process.env.PATH ?? 'PATH-unset', agent.id]) {
      expect(text).not.toContain(value);
    }
  });
});

describe('agent environment: inherit_env and expose_env_values set in the config', () => {
  const h = useServerHarness(ports, {
    env: SERVER_ENV,
    config: {
      inherit_env: ['PATH', 'DESCARTES_TEST_*'],
      expose_env_values: true,
      backends: { env: { argv: ['env'] } },
    },
  });

  it('inherits exactly what inherit_env lists (here the operator opts a token in)', async () => {
    const vars = await agentEnv(h.client);
    expect(vars.get('DESCARTES_TEST_API_TOKEN')).toBe(SECRET);
    expect(vars.get('PATH')).toBe(process.env.PATH);
    expect(vars.has('HOME')).toBe(false);
    expect(vars.has('LC_DESCARTES_TEST')).toBe(false);
  });

  it('get_env returns values too, secret-looking ones redacted', async () => {
    const agent = await spawnAgent(h.client, {
      name: 'env',
      model_backend: 'env',
      task: '',
      environment: { PLAIN: 'plain-value' },
    });
    const data = await getEnv(h.client, agent.id);
    expect(data).toMatchObject({
      names: expect.arrayContaining(['DESCARTES_TEST_API_TOKEN', 'PATH', 'PLAIN']) as unknown,
      values: {
        PATH: process.env.PATH ?? '',
        PLAIN: 'plain-value',
        DESCARTES_TEST_API_TOKEN: '<redacted>',
        DESCARTES_AGENT_ID: agent.id,
      },
    });
    expect(JSON.stringify(data)).not.toContain(SECRET);
  });
});
