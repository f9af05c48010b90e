/**
 * The table state the per-server agents store and the all-servers fleet store share: text and
 * status filters, sort order, the filtered rows, the selection over them and the status counts.
 * Both tables filter, sort and select the same way, so the state is built once here.
 */
import { computed, ref, type Ref } from 'vue';
import type { AgentStatus } from '../../../shared/protocol/types';
import { inPreviousOrder } from '../lib/inPreviousOrder';
import { useSortOrder, useTableSelection } from './useTableSelection';

/** Filters `rows` by text and status and sorts them by `key` in direction `dir`. */
export type AgentRowFilter<R, K extends string> = (
  rows: Iterable<R>,
  text: string,
  status: AgentStatus | '',
  key: K,
  dir: 'asc' | 'desc',
) => R[];

/**
 * How many of `rows` have each status (statuses none has are absent): the counts beside the
 * status filter.
 */
export function countByStatus(rows: Iterable<{ readonly status: AgentStatus }>): Map<AgentStatus, number> {
  const counts = new Map<AgentStatus, number>();
  for (const row of rows) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
  return counts;
}

/**
 * Filters, sort and selection over `rows` (keyed by row id), sorted by `initialSort` first.
 * `filter` is read inside a computed, so any other ref it reads (the fleet's server filter)
 * re-filters too. `visible` is recomputed once per change of `rows`, not per status update.
 */
export function useAgentTable<
  R extends { readonly id: string; readonly status: AgentStatus },
  K extends string,
>(rows: Readonly<Ref<ReadonlyMap<string, R>>>, initialSort: K, filter: AgentRowFilter<R, K>) {
  const filterText = ref('');
  const statusFilter = ref<AgentStatus | ''>('');
  const { sortKey, sortDir, setSort } = useSortOrder<K>(initialSort);
  const count = computed(() => rows.value.size);
  let shown: R[] = [];
  const visible = computed(() => {
    // Sorted from the order last shown: nearly in order already, so the sort is nearly linear.
    const ordered = inPreviousOrder(rows.value, shown);
    shown = filter(ordered, filterText.value, statusFilter.value, sortKey.value, sortDir.value);
    return shown;
  });
  const visibleIds = computed(() => visible.value.map((r) => r.id));
  const statusCounts = computed(() => countByStatus(rows.value.values()));
  return {
    filterText,
    statusFilter,
    sortKey,
    sortDir,
    setSort,
    count,
    visible,
    visibleIds,
    statusCounts,
    ...useTableSelection(visibleIds),
  };
}
