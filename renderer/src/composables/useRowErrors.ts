import { ref, type Ref } from 'vue';

export interface RowErrors {
  /** The error sentence of each row whose last action failed, by row key. */
  readonly errors: Readonly<Ref<Readonly<Record<string, string>>>>;
  /** Records how a row's action ended: an error sentence, or null (success) to clear the row's error. */
  readonly record: (key: string | number, message: string | null) => void;
}

/** Per-row error messages of a list whose rows have their own actions (cancel, discard, dismiss…). */
export function useRowErrors(): RowErrors {
  const errors = ref<Record<string, string>>({});
  return {
    errors,
    record: (key, message) => {
      const { [String(key)]: _old, ...rest } = errors.value;
      errors.value = message === null ? rest : { ...rest, [String(key)]: message };
    },
  };
}
