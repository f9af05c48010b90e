/**
 * The words of the destructive-control confirmation (ConfirmDialog): which command, on how many
 * agents, the first few by name (with their server when the targets span servers), and what
 * the command does to them.
 */
import type { ConfirmRequest, DestructiveCommand } from '../stores/confirm';
import { plural } from './format';

/** How many target names the question spells out before "and N more". */
export const NAMED_TARGETS = 3;

/** What the operator reads. */
export interface ConfirmQuestion {
  /** e.g. "Kill 12 agents: build-1, build-2, build-3 and 9 more?" */
  readonly question: string;
  /** What the command does. */
  readonly effect: string;
  /** The confirm button's label, e.g. "Kill 12 agents". */
  readonly confirmLabel: string;
}

const VERBS: Record<DestructiveCommand, string> = { stop: 'Stop', kill: 'Kill' };

/** What the command does, said of `who` ("the agent", "each agent"). */
const EFFECTS: Record<DestructiveCommand, (who: string) => string> = {
  stop: (who) => `Stop sends SIGTERM: ${who} may clean up, then it ends. It cannot be resumed afterwards.`,
  kill: (who) =>
    `Kill sends SIGKILL: ${who} ends at once, with no chance to clean up or save its work. It cannot be resumed afterwards.`,
};

/** Builds the question for `request`. Pure. */
export function confirmQuestion(request: ConfirmRequest): ConfirmQuestion {
  const { command, targets } = request;
  const verb = VERBS[command];
  const servers = new Set(targets.map((t) => t.serverName ?? ''));
  const spansServers = servers.size > 1;
  const names = targets
    .slice(0, NAMED_TARGETS)
    .map((t) => (spansServers && t.serverName ? `${t.name} (${t.serverName})` : t.name));
  const rest = targets.length - names.length;
  const list = rest > 0 ? `${names.join(', ')} and ${rest} more` : joinAnd(names);
  const count = targets.length === 1 ? 'agent' : plural(targets.length, 'agent');
  const where = spansServers ? ` on ${plural(servers.size, 'server')}` : '';
  return {
    question: targets.length === 1 ? `${verb} agent ${list}?` : `${verb} ${count}${where}: ${list}?`,
    effect: EFFECTS[command](targets.length === 1 ? 'the agent' : 'each agent'),
    confirmLabel: `${verb} ${count}`,
  };
}

function joinAnd(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}
