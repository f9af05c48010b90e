/**
 * Single-key shortcuts for the main actions, ignored while the operator types, and Ctrl/Cmd+K
 * for the command palette, which works everywhere.
 */

/** How the help names the palette's key (Cmd on macOS). */
const PALETTE_KEY_LABEL = 'Ctrl+K';

/** Every shortcut with what it does, for the help overlay and the handler. */
export const SHORTCUTS = [
  { key: '/', action: 'focusFilter', label: 'Focus the filter' },
  { key: 'n', action: 'spawn', label: 'Spawn an agent' },
  { key: 'p', action: 'pause', label: 'Pause the selected agent(s)' },
  { key: 'r', action: 'resume', label: 'Resume the selected agent(s)' },
  { key: 's', action: 'stop', label: 'Stop the selected agent(s)' },
  // Shift+K, not k: k moves up a row (j/k), and a kill should take a deliberate key.
  { key: 'K', action: 'kill', label: 'Kill the selected agent(s)' },
  { key: 'j', action: 'rowNext', label: 'Select the next row of the table' },
  { key: 'k', action: 'rowPrev', label: 'Select the previous row of the table' },
  { key: 'b', action: 'batch', label: 'Open batch control for the selection' },
  { key: 'q', action: 'queue', label: 'Show or hide the queue panel' },
  { key: 'g', action: 'servers', label: 'Go to servers' },
  { key: 't', action: 'theme', label: 'Toggle dark / light theme' },
  { key: '?', action: 'help', label: 'Show this help' },
  { key: 'Escape', action: 'close', label: 'Close the dialog or panel' },
  { key: PALETTE_KEY_LABEL, action: 'palette', label: 'Command palette: any action, server or agent' },
] as const;

export type ShortcutAction = (typeof SHORTCUTS)[number]['action'];

/** True when the key went to a text field, a select or an editable element. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color'].includes(type);
  }
  return false;
}

/** The shortcut a key event means, or null (modifiers held, typing, or an unbound key). */
export function shortcutFor(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target'> & { shiftKey?: boolean },
): ShortcutAction | null {
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') return 'palette';
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  // Escape works everywhere, even in a field (it closes the dialog the field is in).
  if (event.key !== 'Escape' && isTypingTarget(event.target)) return null;
  const found = SHORTCUTS.find((s) => s.key === event.key && s.action !== 'palette');
  // An upper-case binding (Kill is `K`) needs Shift held: with Caps Lock on, `k` (previous row)
  // also arrives as `K` and must not kill.
  if (found && found.key.length === 1 && found.key !== found.key.toLowerCase() && event.shiftKey !== true)
    return null;
  return found ? found.action : null;
}
