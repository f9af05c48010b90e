import {
  CHANNEL_NAMES,
  describeIssues,
  fail,
  ok,
  schemas,
  type ChannelName,
  type IpcResult,
} from '../../../shared/ipc';
import type { ClientContext } from './clientContext';
import type { ConsoleHandlers } from './consoleHandlers';
import { toIpcFailure } from './ipcFailure';

const KNOWN = new Set<string>(CHANNEL_NAMES);

/** Whether `name` is a contract channel (a method of `ConsoleApi`). */
export function isChannelName(name: string): name is ChannelName {
  return KNOWN.has(name);
}

/**
 * Runs one contract call for `client`: rejects an unknown channel, parses `rawInput` with the
 * channel's schema (`invalid_input` naming the field), calls the handler and maps whatever it
 * throws to an {@link IpcResult}. Never throws, never rejects.
 */
export async function invokeChannel(
  handlers: ConsoleHandlers,
  name: string,
  rawInput: unknown,
  client: ClientContext,
): Promise<IpcResult<unknown>> {
  if (!isChannelName(name)) {
    return fail(
      'invalid_input',
      `Unknown method "${name}"; this console does not offer it (is the window out of date? reload it).`,
    );
  }
  const parsed = schemas[name].safeParse(rawInput);
  if (!parsed.success) {
    return fail(
      'invalid_input',
      `Invalid input for ${name}: ${describeIssues(parsed.error)}. Correct it and try again.`,
    );
  }
  try {
    handlers.attach(client);
    const handler = handlers.table[name] as (input: unknown, client: ClientContext) => unknown;
    const value: unknown = await handler(parsed.data, client);
    return ok(value);
  } catch (error) {
    return toIpcFailure(error);
  }
}
