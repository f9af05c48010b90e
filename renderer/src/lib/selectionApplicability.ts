/**
 * How many agents of a selection each command applies to, and why the others cannot take it:
 * the all-servers toolbar's enabled state and tooltips. The rule is `controlAvailability`;
 * this only avoids asking it once per selected row per command. Its verdict depends on the
 * status, pause mode, details and whether the server is online, and a large selection holds
 * few distinct such subjects, so each distinct one is judged once. The selection is counted
 * again on every applied status batch (up to 20 a second), over up to 10,000 rows.
 */
import type { AgentDetails } from '../../../shared/domain/agentDetails';
import { controlAvailability, type AgentControl, type ControlSubject } from './controlAvailability';

/** Per command: how many of the subjects it applies to, and the first reason one cannot take it. */
export type Applicability<C extends AgentControl> = Record<C, { applies: number; why: string | null }>;

/**
 * The applicability of each of `commands` over `subjects`, in order: `why` is the reason of the
 * first subject (in that order) the command does not apply to. Same answer as asking
 * `controlAvailability` for every subject. Pure; never throws.
 */
export function selectionApplicability<C extends AgentControl>(
  commands: readonly C[],
  subjects: Iterable<ControlSubject>,
): Applicability<C> {
  const out = Object.fromEntries(commands.map((c) => [c, { applies: 0, why: null }])) as Applicability<C>;
  // Details objects are compared by identity: the details store replaces an agent's object when
  // it changes, and rows without details share `null`.
  const verdicts = new Map<AgentDetails | null, Map<string, readonly boolean[]>>();
  for (const subject of subjects) {
    const details = subject.details ?? null;
    const key = `${subject.status ?? ''}|${subject.pauseMode ?? ''}|${(subject.serverOnline ?? true) ? 1 : 0}`;
    let byKey = verdicts.get(details);
    if (byKey === undefined) {
      byKey = new Map();
      verdicts.set(details, byKey);
    }
    let enabled = byKey.get(key);
    let why: (string | null)[] | undefined;
    if (enabled === undefined) {
      const judged = commands.map((c) => controlAvailability(c, subject));
      enabled = judged.map((v) => v.enabled);
      why = judged.map((v) => v.why);
      byKey.set(key, enabled);
    }
    commands.forEach((command, i) => {
      const counts = out[command];
      if (enabled[i] === true) counts.applies++;
      else if (counts.why === null) {
        why ??= commands.map((c) => controlAvailability(c, subject).why);
        counts.why = why[i] ?? null;
      }
    });
  }
  return out;
}
