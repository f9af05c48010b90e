/**
 * The command palette's entries and its matching: every shortcut action (same labels as the
 * help), a jump to every server, and a jump to every agent of the open server. Pure data; the
 * palette runs an action through the shortcut runner (renderer/src/composables/useShortcutActions.ts).
 */
import { SHORTCUTS, type ShortcutAction } from './shortcuts';

/** What choosing an entry does. */
export type PaletteTarget =
  | { readonly kind: 'action'; readonly action: ShortcutAction }
  | { readonly kind: 'server'; readonly serverId: string }
  | { readonly kind: 'agent'; readonly serverId: string; readonly agentId: string };

/** One line of the palette. */
export interface PaletteEntry {
  /** Unique among the entries (the listbox option's id). */
  readonly key: string;
  readonly label: string;
  /** Shown muted after the label: the key, the id, the server. Matched like the label. */
  readonly detail: string;
  readonly target: PaletteTarget;
}

/**
 * Actions the palette does not list: Escape closes the palette itself, and Ctrl/Cmd+K is how
 * it opened. Every other shortcut action is an entry.
 */
export const PALETTE_SKIPPED_ACTIONS: ReadonlySet<ShortcutAction> = new Set(['close', 'palette']);

/** The entries: actions, then servers, then the open server's agents (in the order given). */
export function paletteEntries(input: {
  readonly servers: readonly { readonly id: string; readonly name: string }[];
  readonly agentsServer: { readonly id: string; readonly name: string } | null;
  readonly agents: readonly { readonly id: string; readonly name: string }[];
}): PaletteEntry[] {
  const out: PaletteEntry[] = [];
  for (const s of SHORTCUTS) {
    if (PALETTE_SKIPPED_ACTIONS.has(s.action)) continue;
    out.push({
      key: `action:${s.action}`,
      label: s.label,
      detail: s.key,
      target: { kind: 'action', action: s.action },
    });
  }
  for (const s of input.servers) {
    out.push({
      key: `server:${s.id}`,
      label: `Go to server ${s.name}`,
      detail: s.id,
      target: { kind: 'server', serverId: s.id },
    });
  }
  const server = input.agentsServer;
  if (server !== null) {
    for (const a of input.agents) {
      out.push({
        key: `agent:${a.id}`,
        label: `Open agent ${a.name}`,
        detail: `${a.id} · ${server.name}`,
        target: { kind: 'agent', serverId: server.id, agentId: a.id },
      });
    }
  }
  return out;
}

/**
 * How well `query` matches `text` (lower is better), or null for no match: a substring scores
 * by where it starts, otherwise the query's characters in order (fuzzy) score after every
 * substring by how spread out they are. Case-insensitive.
 */
export function matchScore(text: string, query: string): number | null {
  const hay = text.toLowerCase();
  const needle = query.toLowerCase();
  const at = hay.indexOf(needle);
  if (at >= 0) return at;
  let from = 0;
  let first = -1;
  for (const ch of needle) {
    const found = hay.indexOf(ch, from);
    if (found < 0) return null;
    if (first < 0) first = found;
    from = found + 1;
  }
  return 10_000 + (from - first);
}

/** What {@link filterPalette} returns. */
export interface PaletteMatches {
  /** The best matches, at most `limit`, best first (ties keep the entries' order). */
  readonly shown: readonly PaletteEntry[];
  /** How many more matched than were shown. */
  readonly more: number;
}

/**
 * The entries matching `query` on label or detail (all of them, in order, for a blank query),
 * best first, cut at `limit`.
 */
export function filterPalette(
  entries: readonly PaletteEntry[],
  query: string,
  limit: number,
): PaletteMatches {
  const q = query.trim();
  if (q === '') return { shown: entries.slice(0, limit), more: Math.max(0, entries.length - limit) };
  const scored: { entry: PaletteEntry; score: number; index: number }[] = [];
  entries.forEach((entry, index) => {
    const a = matchScore(entry.label, q);
    const b = matchScore(entry.detail, q);
    const score = a === null ? b : b === null ? a : Math.min(a, b);
    if (score !== null) scored.push({ entry, score, index });
  });
  scored.sort((x, y) => x.score - y.score || x.index - y.index);
  return { shown: scored.slice(0, limit).map((s) => s.entry), more: Math.max(0, scored.length - limit) };
}
