/**
 * Issuing commands to agents: spawn, control (pause, resume, stop, kill, signal, stdin) and
 * custom actions. Each call returns an {@link Issued} the form shows: the outcome with a next
 * step, or the error that kept it from being issued.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { schemas, type InputOf } from '../../../shared/ipc';
import type { ControlCommandType, JsonValue } from '../../../shared/protocol/types';
import { getApi } from '../api';
import { whileBusy } from '../lib/busyKeys';
import { describeOutcome, type OutcomeView } from '../lib/commandOutcome';
import { describeError, sentence } from '../lib/errors';
import { fieldErrors } from '../lib/fieldErrors';
import { shortId } from '../lib/format';
import { useAgentsStore } from './agents';

/** What issuing gave: an outcome (the command exists), or errors (it was not issued). */
export type Issued<T = undefined> =
  | { kind: 'outcome'; outcome: OutcomeView; data?: T }
  | { kind: 'invalid'; errors: Record<string, string> }
  | { kind: 'error'; message: string };

/** One custom action a server offers, from the `list_actions` built-in. */
export interface ActionInfo {
  readonly name: string;
  readonly description: string;
  readonly paramsSchema: unknown;
}

/** The spawn dialog's raw fields. */
export interface SpawnForm {
  name: string;
  backend: string;
  task: string;
  env: { key: string; value: string }[];
  timeoutSecs: string;
  expiresAt?: number | undefined;
}

/** How a command's message names an agent: its name when the list knows it, else its short id. */
function agentLabel(agentId: string): string {
  const name = useAgentsStore().getRow(agentId)?.name;
  return name === undefined || name === '' ? `agent ${shortId(agentId)}` : `"${name}"`;
}

/** Validates the spawn form against the contract's schema; errors are keyed `name`, `backend`, `task`, `env.N`, `timeoutSecs`. */
export function validateSpawnForm(
  serverId: string,
  form: SpawnForm,
): { ok: true; input: InputOf<'spawnAgent'> } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const environment: Record<string, string> = {};
  form.env.forEach((row, index) => {
    const key = row.key.trim();
    if (key === '' && row.value === '') return;
    if (key === '') errors[`env.${index}`] = 'a variable needs a name';
    else if (key in environment) errors[`env.${index}`] = `${key} is set twice`;
    else environment[key] = row.value;
  });
  const timeoutText = form.timeoutSecs.trim();
  const timeoutSecs = timeoutText === '' ? undefined : Number(timeoutText);
  const input = {
    serverId,
    config: { name: form.name, model_backend: form.backend, task: form.task, environment },
    ...(timeoutSecs === undefined ? {} : { timeoutSecs }),
    ...(form.expiresAt === undefined ? {} : { expiresAt: form.expiresAt }),
  };
  const parsed = schemas.spawnAgent.safeParse(input);
  if (!parsed.success) {
    for (const [path, message] of Object.entries(fieldErrors(parsed.error))) {
      errors[spawnField(path, form)] ??= message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, input: parsed.data };
}

/** The form field a schema path of the spawn input is about (`env.N` for a variable's row). */
function spawnField(path: string, form: SpawnForm): string {
  if (path === 'config.model_backend') return 'backend';
  const env = /^config\.environment\.(.+)$/.exec(path);
  if (env) {
    const index = form.env.findIndex((row) => row.key.trim() === env[1]);
    return index >= 0 ? `env.${index}` : 'env';
  }
  return path.replace(/^config\./, '');
}

/** The actions in a `list_actions` reply's data, or null when it is not a list. */
export function parseActionList(data: JsonValue | undefined): ActionInfo[] | null {
  if (!Array.isArray(data)) return null;
  const out: ActionInfo[] = [];
  for (const item of data) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const name = item.name;
    if (typeof name !== 'string') continue;
    const description = item.description;
    out.push({
      name,
      description: typeof description === 'string' ? description : '',
      paramsSchema: item.params_schema ?? null,
    });
  }
  return out;
}

export const useCommandsStore = defineStore('commands', () => {
  /** Keys (`<agentId>:<command>`) of commands being issued, for progress indicators. */
  const busy = ref<Record<string, boolean>>({});

  const track = <T>(key: string, work: () => Promise<T>): Promise<T> => whileBusy(busy, key, true, work);

  /** Spawns an agent from the dialog's fields. */
  async function spawn(serverId: string, form: SpawnForm): Promise<Issued<{ agentId: string | null }>> {
    const valid = validateSpawnForm(serverId, form);
    if (!valid.ok) return { kind: 'invalid', errors: valid.errors };
    return track(`spawn:${serverId}`, async () => {
      const result = await getApi().spawnAgent(valid.input);
      if (!result.ok)
        return { kind: 'error', message: describeError(`Could not spawn "${form.name}"`, result.error) };
      const value = result.value;
      let agentId: string | null = null;
      if (value.status === 'done' && value.reply.agent_info) {
        agentId = value.reply.agent_info.id;
        const agents = useAgentsStore();
        if (agents.serverId === serverId) agents.upsert(value.reply.agent_info);
      }
      return { kind: 'outcome', outcome: describeOutcome(`spawn "${form.name}"`, value), data: { agentId } };
    });
  }

  /** Sends a control command (pause, resume, stop, kill, signal, write_stdin …) to one agent. */
  async function control(
    serverId: string,
    agentId: string,
    command: ControlCommandType,
    payload?: JsonValue,
    expiresAt?: number,
  ): Promise<Issued<{ data: JsonValue | undefined }>> {
    const what = `${command.replace('_', ' ')} ${agentLabel(agentId)}`;
    return track(`${agentId}:${command}`, async () => {
      const result = await getApi().controlAgent({
        serverId,
        agentId,
        command,
        ...(payload === undefined ? {} : { payload }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      if (!result.ok) return { kind: 'error', message: describeError(`Could not ${what}`, result.error) };
      const value = result.value;
      if (value.status === 'done' && value.reply.success && value.reply.status) {
        useAgentsStore().setStatus(serverId, agentId, value.reply.status);
      }
      return {
        kind: 'outcome',
        outcome: describeOutcome(what, value),
        data: { data: value.status === 'done' ? value.reply.data : undefined },
      };
    });
  }

  /** Runs a custom action; the reply's `data` comes back with the outcome. */
  async function sendAction(
    input: InputOf<'sendAction'>,
  ): Promise<Issued<{ data: JsonValue | undefined; error: string | null }>> {
    const parsed = schemas.sendAction.safeParse(input);
    if (!parsed.success) return { kind: 'invalid', errors: fieldErrors(parsed.error) };
    const what = `action "${input.action}" on ${agentLabel(input.agentId)}`;
    return track(`${input.agentId}:action`, async () => {
      const result = await getApi().sendAction(input);
      if (!result.ok) return { kind: 'error', message: describeError(`Could not run ${what}`, result.error) };
      const value = result.value;
      return {
        kind: 'outcome',
        outcome: describeOutcome(what, value),
        data:
          value.status === 'done'
            ? { data: value.reply.data, error: value.reply.error ?? null }
            : { data: undefined, error: null },
      };
    });
  }

  /** The actions the agent's server offers (`list_actions`), or an error sentence. */
  async function listActions(
    serverId: string,
    agentId: string,
  ): Promise<{ ok: true; actions: ActionInfo[] } | { ok: false; message: string }> {
    const result = await getApi().sendAction({ serverId, agentId, action: 'list_actions' });
    if (!result.ok) return { ok: false, message: describeError('Could not list the actions', result.error) };
    const value = result.value;
    if (value.status !== 'done') {
      return {
        ok: false,
        message: `${describeOutcome('list_actions', value).detail} Type the action name instead.`,
      };
    }
    if (!value.reply.success) {
      return {
        ok: false,
        message: sentence(
          'The server did not list its actions',
          value.reply.error || 'no reason given',
          'Type the action name instead.',
        ),
      };
    }
    const actions = parseActionList(value.reply.data);
    if (actions === null)
      return {
        ok: false,
        message: 'The server answered list_actions without a list. Type the action name instead.',
      };
    return { ok: true, actions };
  }

  const isBusy = (key: string): boolean => busy.value[key] === true;

  return { busy, isBusy, spawn, control, sendAction, listActions };
});
