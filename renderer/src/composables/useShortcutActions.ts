/**
 * What each shortcut action does: THE one place, used by the keys (App.vue) and the command
 * palette alike, so a key and its palette entry can never disagree.
 */
import type { ControlCommandType } from '../../../shared/protocol/types';
import { assertNever } from '../../../shared/domain/command';
import type { ShortcutAction } from '../lib/shortcuts';
import { useAgentControlRules } from './useAgentControlRules';
import { useAgentsStore } from '../stores/agents';
import { useBatchStore } from '../stores/batch';
import { useCommandsStore } from '../stores/commands';
import { useSettingsStore } from '../stores/settings';
import { useUiStore } from '../stores/ui';

/** What the shown view offers the shell (each optional: a view without a table has no rows). */
export interface ViewHooks {
  /** Focuses the view's filter field (`/`). */
  focusFilter?: () => void;
  /** Moves the table's row selection by `delta` rows (j/k) and focuses that row (Enter opens it). */
  moveRow?: (delta: number) => void;
}

type QuickCommand = Extract<ControlCommandType, 'pause' | 'resume' | 'stop' | 'kill'>;

/**
 * The runner of shortcut actions. `currentView` gives the view on screen (read at each run).
 * A control that does not apply to the agent's state says why and sends nothing
 * (renderer/src/lib/controlAvailability.ts); stop and kill of one agent ask the confirmation
 * gate (renderer/src/stores/confirm.ts) first;
 * several selected agents go to the batch panel, which asks its own way.
 */
export function useShortcutActions(currentView: () => ViewHooks | null): (action: ShortcutAction) => void {
  const ui = useUiStore();
  const agents = useAgentsStore();
  const settings = useSettingsStore();
  const commands = useCommandsStore();
  const batch = useBatchStore();
  const rules = useAgentControlRules();

  /** The agents a single-agent action acts on: the open one, or the selected ones. */
  function targetAgents(): string[] {
    if (ui.view === 'agent' && ui.agentId !== null) return [ui.agentId];
    return agents.selectedIds;
  }

  async function quickControl(command: QuickCommand): Promise<void> {
    const sid = ui.serverId;
    const targets = targetAgents();
    if (sid === null || targets.length === 0) {
      ui.notify('warn', `Select an agent first, then press the key again (${command}).`);
      return;
    }
    if (targets.length > 1) {
      batch.draftCommand = command;
      ui.batchOpen = true;
      return;
    }
    const [target] = targets;
    if (target === undefined) return;
    const verdict = rules.availability(sid, target, command);
    if (!verdict.enabled) {
      ui.notify('warn', verdict.why ?? `${command} does not apply to this agent.`);
      return;
    }
    if ((command === 'stop' || command === 'kill') && !(await rules.confirm(command, [target]))) return;
    ui.notify('info', `Sending ${command}…`);
    const issued = await commands.control(sid, target, command);
    if (issued.kind === 'outcome')
      ui.notify(issued.outcome.tone, `${issued.outcome.title}: ${issued.outcome.detail}`);
    else if (issued.kind === 'error') ui.notify('error', issued.message);
  }

  /** Whether a server is open; when not, says `hint` (dialogs of a server need one). */
  function onServer(hint: string): boolean {
    if (ui.serverId === null) ui.notify('warn', hint);
    return ui.serverId !== null;
  }

  return (action: ShortcutAction): void => {
    switch (action) {
      case 'focusFilter':
        currentView()?.focusFilter?.();
        return;
      case 'rowNext':
      case 'rowPrev':
        currentView()?.moveRow?.(action === 'rowNext' ? 1 : -1);
        return;
      case 'spawn':
        ui.spawnOpen = onServer('Open a server first (g for servers), then press n to spawn.');
        return;
      case 'pause':
      case 'resume':
      case 'stop':
      case 'kill':
        void quickControl(action);
        return;
      case 'batch':
        ui.batchOpen = onServer('Open a server and select agents first.');
        return;
      case 'queue':
        ui.toggleQueue();
        return;
      case 'servers':
        ui.showServers();
        return;
      case 'theme':
        settings.toggleTheme();
        return;
      case 'help':
        ui.helpOpen = !ui.helpOpen;
        return;
      case 'palette':
        ui.paletteOpen = !ui.paletteOpen;
        return;
      case 'close':
        ui.closeTop();
        return;
      default:
        assertNever(action);
    }
  };
}
