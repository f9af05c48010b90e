/**
 * Multi-select over an ordered list of ids, with the usual desktop gestures: click selects
 * one, Ctrl/Cmd-click toggles, Shift-click selects the range from the last anchor.
 */

export interface ClickModifiers {
  readonly shift?: boolean;
  readonly toggle?: boolean;
}

export interface SelectionState {
  readonly selected: ReadonlySet<string>;
  /** The id the next Shift-click extends from. */
  readonly anchor: string | null;
}

export const emptySelection = (): SelectionState => ({ selected: new Set(), anchor: null });

/**
 * The selection after clicking `id` in `ordered` (the rows as currently shown). A Shift-click
 * whose anchor is no longer shown acts like a plain click.
 */
export function clickSelect(
  state: SelectionState,
  id: string,
  ordered: readonly string[],
  modifiers: ClickModifiers = {},
): SelectionState {
  if (modifiers.shift && state.anchor !== null) {
    const from = ordered.indexOf(state.anchor);
    const to = ordered.indexOf(id);
    if (from >= 0 && to >= 0) {
      const [lo, hi] = from <= to ? [from, to] : [to, from];
      const selected = new Set(modifiers.toggle ? state.selected : []);
      for (let i = lo; i <= hi; i++) {
        const rowId = ordered[i];
        if (rowId !== undefined) selected.add(rowId);
      }
      return { selected, anchor: state.anchor };
    }
  }
  if (modifiers.toggle || modifiers.shift) {
    const selected = new Set(state.selected);
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    return { selected, anchor: id };
  }
  return { selected: new Set([id]), anchor: id };
}

/** Checkbox toggle of one row (keeps the others). */
export function toggleOne(state: SelectionState, id: string): SelectionState {
  return clickSelect(state, id, [], { toggle: true });
}

/**
 * "Select all filtered": selects every shown id, or clears them when all are already
 * selected. Selected ids that are not shown stay selected only when `keepHidden`.
 */
export function toggleAll(
  state: SelectionState,
  shown: readonly string[],
  keepHidden = false,
): SelectionState {
  const allShownSelected = shown.length > 0 && shown.every((id) => state.selected.has(id));
  const selected = new Set(keepHidden ? state.selected : []);
  if (allShownSelected) {
    for (const id of shown) selected.delete(id);
  } else {
    for (const id of shown) selected.add(id);
  }
  return { selected, anchor: state.anchor };
}
