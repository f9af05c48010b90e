import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../../shared/protocol';

/** Directory of the fixture agents (plain Node scripts without dependencies). */
export const AGENT_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/agents/', import.meta.url));

/** Fixture agent scripts in `test/fixtures/agents/`. */
export type FixtureAgent =
  'action-agent.js' | 'coop-agent.js' | 'flood.js' | 'lines.js' | 'exit.js' | 'report.js' | 'ticker.js';

/** Name of the backend {@link nodeBackends} defines: runs `node <task>`. */
export const NODE_BACKEND = 'node';

/**
 * A server config `backends` section with a `node` backend whose argv is
 * `[process.execPath, "{task}"]`: the task is an absolute fixture path, so it works whatever
 * the server's cwd and PATH are.
 */
export function nodeBackends(): Record<string, { argv: string[]; env?: Record<string, string> }> {
  return { [NODE_BACKEND]: { argv: [process.execPath, '{task}'] } };
}

/** The spawn config that runs fixture `script` with the `node` backend. */
export function fixtureAgent(
  script: FixtureAgent,
  env: Record<string, string> = {},
  name = script.replace('.js', ''),
): Partial<AgentConfig> & Pick<AgentConfig, 'model_backend' | 'task'> {
  return { name, model_backend: NODE_BACKEND, task: AGENT_FIXTURE_DIR + script, environment: env };
}
