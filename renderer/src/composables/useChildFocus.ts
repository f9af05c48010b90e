import { useTemplateRef } from 'vue';

/**
 * The focus of a child component's field, for a view to expose to the shell (the `/` shortcut):
 * views whose filter field lives in a shared component (AgentFilterFields, RegexFilterField)
 * forward it the same way. `key` is the child's template ref; the child exposes `focus`.
 * Nothing happens while the child is not rendered.
 */
export function useChildFocus(key: string): () => void {
  const child = useTemplateRef<{ focus: () => void }>(key);
  return () => child.value?.focus();
}
