/**
 * Selection and sort of a table (the per-server agents table and the all-servers one): the
 * desktop gestures of lib/selection.ts over the ids the table shows, in order, and a sort key
 * that flips its direction when chosen again.
 */
import { ref, shallowRef, type Ref } from 'vue';
import {
  clickSelect,
  emptySelection,
  toggleAll,
  toggleOne,
  type ClickModifiers,
  type SelectionState,
} from '../lib/selection';

/** The selection over `visibleIds` (the rows as shown, in order; read when a gesture happens). */
export function useTableSelection(visibleIds: Readonly<Ref<readonly string[]>>) {
  const selection = shallowRef<SelectionState>(emptySelection());
  return {
    selection,
    click: (id: string, modifiers: ClickModifiers): void => {
      selection.value = clickSelect(selection.value, id, visibleIds.value, modifiers);
    },
    toggle: (id: string): void => {
      selection.value = toggleOne(selection.value, id);
    },
    /** Selects every shown row (or clears them when all already are). */
    toggleAllFiltered: (): void => {
      selection.value = toggleAll(selection.value, visibleIds.value);
    },
    clearSelection: (): void => {
      selection.value = emptySelection();
    },
  };
}

/** A sort key (starting at `initial`, ascending); choosing the same key again flips the direction. */
export function useSortOrder<K extends string>(initial: K) {
  const sortKey = ref(initial) as Ref<K>;
  const sortDir = ref<'asc' | 'desc'>('asc');
  return {
    sortKey,
    sortDir,
    setSort: (key: K): void => {
      if (sortKey.value === key) sortDir.value = sortDir.value === 'asc' ? 'desc' : 'asc';
      else {
        sortKey.value = key;
        sortDir.value = 'asc';
      }
    },
  };
}
