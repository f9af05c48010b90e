/**
 * Saved output filters, per server: a name, a filter and a stream the operator applies in one
 * click. Persisted in localStorage like the other settings (`stores/settings.ts`); what is read
 * back is validated, and an entry that does not pass is left out rather than applied.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { z } from 'zod';
import { OUTPUT_STREAMS, type OutputStream } from '../../../shared/protocol/types';
import { checkRegex } from '../lib/regexFilter';

/** localStorage key. */
export const SAVED_FILTERS_KEY = 'descartes.savedFilters';
/** Longest name, in characters. */
export const MAX_FILTER_NAME = 60;
/** Saved filters kept per server. */
export const MAX_SAVED_FILTERS = 50;

export interface SavedFilter {
  readonly name: string;
  readonly filter: string;
  readonly stream: OutputStream;
}

const savedFilter = z.strictObject({
  name: z.string().min(1).max(MAX_FILTER_NAME),
  filter: z.string().refine((f) => checkRegex(f).ok),
  stream: z.enum(OUTPUT_STREAMS),
});

/** Reads the stored map, keeping only entries that are valid now (a damaged store loses nothing else). */
function load(): Record<string, SavedFilter[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(localStorage.getItem(SAVED_FILTERS_KEY) ?? '{}');
  } catch {
    return {};
  }
  const out: Record<string, SavedFilter[]> = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [server, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    out[server] = list.flatMap((entry) => {
      const parsed = savedFilter.safeParse(entry);
      return parsed.success ? [parsed.data] : [];
    });
  }
  return out;
}

export const useSavedFiltersStore = defineStore('savedFilters', () => {
  const byServer = ref<Record<string, SavedFilter[]>>(load());

  function persist(): void {
    try {
      localStorage.setItem(SAVED_FILTERS_KEY, JSON.stringify(byServer.value));
    } catch {
      // Not persisted (storage disabled); the filters still apply for this session.
    }
  }

  /** The saved filters of a server, by name. */
  function list(serverId: string): readonly SavedFilter[] {
    return byServer.value[serverId] ?? [];
  }

  /**
   * Saves (or, under the same name, replaces) a filter for a server.
   * @returns null, or a sentence saying what is wrong and what to do (nothing is saved then)
   */
  function save(serverId: string, entry: SavedFilter): string | null {
    const name = entry.name.trim();
    if (name === '') return 'Give the filter a name, e.g. "errors".';
    if (name.length > MAX_FILTER_NAME) return `Shorten the name to at most ${MAX_FILTER_NAME} characters.`;
    if (entry.filter === '') return 'Type a filter to save; an empty one shows every line.';
    const check = checkRegex(entry.filter);
    if (!check.ok) return check.message;
    const current = list(serverId).filter((f) => f.name !== name);
    if (current.length >= MAX_SAVED_FILTERS) {
      return `This server already has ${MAX_SAVED_FILTERS} saved filters; delete one first.`;
    }
    const next = [...current, { name, filter: entry.filter, stream: entry.stream }];
    next.sort((a, b) => a.name.localeCompare(b.name));
    byServer.value = { ...byServer.value, [serverId]: next };
    persist();
    return null;
  }

  /** Deletes a server's saved filter by name (nothing when there is none). */
  function remove(serverId: string, name: string): void {
    byServer.value = { ...byServer.value, [serverId]: list(serverId).filter((f) => f.name !== name) };
    persist();
  }

  return { byServer, list, save, remove };
});
