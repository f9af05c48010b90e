/**
 * A regex filter as typed, as applied and as refused: the single-agent output store and the
 * merged log both let the user type a pattern, check it live, and apply it only when valid
 * (the previous filter staying in force otherwise). What applying does next (re-query the
 * server, or re-filter held lines) is the store's; the checking is the same, so it lives here.
 */
import { ref } from 'vue';
import { checkRegex } from '../lib/regexFilter';

/** The filter state and its two gestures: live validation and apply. */
export function useRegexFilter() {
  /** The filter as typed. */
  const filterText = ref('');
  /** The filter in force (validated). */
  const appliedFilter = ref('');
  /** Why the typed pattern is refused; null when it is valid. */
  const filterError = ref<string | null>(null);
  /** The applied filter as a regex; null when none is in force. */
  let regex: RegExp | null = null;

  return {
    filterText,
    appliedFilter,
    filterError,
    /** The regex in force, or null for no filter. */
    regex: (): RegExp | null => regex,
    /** Whether `text` passes the filter in force. */
    matches: (text: string): boolean => regex === null || regex.test(text),
    /**
     * Takes `text` as typed and, when valid, puts it in force; when invalid, reports why in
     * `filterError` and keeps the previous filter. Returns whether it was put in force.
     */
    apply: (text: string = filterText.value): boolean => {
      filterText.value = text;
      const check = checkRegex(text);
      if (!check.ok) {
        filterError.value = check.message;
        return false;
      }
      filterError.value = null;
      regex = check.regex;
      appliedFilter.value = text;
      return true;
    },
    /** Live validation while typing: records the text and whether it is valid (nothing applied). */
    validate: (text: string): void => {
      filterText.value = text;
      const check = checkRegex(text);
      filterError.value = check.ok ? null : check.message;
    },
  };
}
