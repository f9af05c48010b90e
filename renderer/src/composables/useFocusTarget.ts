import { ref, type Ref } from 'vue';

export interface FocusTarget {
  /** Bind as the field's template ref. */
  readonly el: Ref<HTMLInputElement | null>;
  /** Focuses the field (and selects its text when asked to); nothing while it is not rendered. */
  readonly focus: () => void;
}

/** A field that a shortcut can focus: views expose `focus` to the shell (the `/` shortcut). */
export function useFocusTarget(options: { select?: boolean } = {}): FocusTarget {
  const el = ref<HTMLInputElement | null>(null);
  return {
    el,
    focus: () => {
      el.value?.focus();
      if (options.select === true) el.value?.select();
    },
  };
}
