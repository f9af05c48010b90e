/**
 * Every failure the operator reads is worded here: a human lead saying what failed, the reason
 * (main's or the server's own words, cleaned), and one next step. One place, so a failure reads
 * the same in a form, a row, a banner and a notification, and no lead or advice is said twice.
 */
import type { Ref } from 'vue';
import type { IpcError, IpcErrorCode, IpcResult } from '../../../shared/ipc';
import { assertNever } from '../../../shared/domain/command';

/** What to do next for each error code, added after main's message when it gives no advice itself. */
export function nextStepFor(code: IpcErrorCode): string {
  switch (code) {
    case 'invalid_input':
      return 'Correct the named field and try again.';
    case 'forbidden':
      return 'Reopen the console from the link the host printed: the access token is missing or outdated.';
    case 'not_found':
      return 'Refresh the list: it may have been removed or have ended.';
    case 'offline':
      return 'Check that the server is running and reachable; the console reconnects by itself.';
    case 'timeout':
      return 'The outcome is unknown: check the current state before trying again.';
    case 'queue_full':
      return 'Wait for pending commands to be delivered, or cancel some in the queue panel.';
    case 'unsupported':
      return 'This server cannot do that (for example a Rust 1.0.0 server): use another server or command.';
    case 'conflict':
      return 'Refresh: the item changed state in the meantime.';
    case 'storage':
      return "Check the disk that holds the console's data (free space, errors), then try again.";
    case 'internal':
      return 'This is a bug in the console: copy this message into a bug report.';
    default:
      return assertNever(code);
  }
}

/** JSON object keys that hold the human text of an error someone sent as a JSON document. */
const TEXT_KEYS = ['message', 'error', 'reason', 'detail'] as const;

/** A stack frame line ("    at f (file.js:1:2)") or a bare location ("file.js:1:2"). */
const STACK_LINE = /^\s*(at\s|\S+:\d+:\d+\)?$)/;

/** An exception class name a message may start with ("TypeError: "), meaningless to an operator. */
const CLASS_PREFIX = /^(?:[A-Z][A-Za-z]*)?Error:\s+/;

/**
 * A reason as the operator should read it: one line, without a trailing period, stack frames,
 * exception class names or a JSON wrapper (the text inside `message`/`error`/`reason` is kept),
 * and with a lead repeated by two layers said once ("invalid regex: invalid regex: x" → "invalid
 * regex: x"). Returns '' for a missing or blank reason.
 */
export function cleanReason(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  let reason = unwrapJson(text.trim());
  // Stack text (after the first line) is for the console log, not for the operator.
  reason = reason
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !STACK_LINE.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  reason = reason.replace(CLASS_PREFIX, '');
  return dropRepeatedLeads(reason).replace(/[.\s]+$/, '');
}

/** The human text inside a JSON error document, or the text unchanged when it is not one. */
function unwrapJson(text: string): string {
  if (!/^[[{]/.test(text)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const record = parsed as Record<string, unknown>;
    for (const key of TEXT_KEYS) {
      const value = record[key];
      if (typeof value === 'string' && value.trim() !== '') return unwrapJson(value.trim());
    }
  }
  // A JSON document with no text in it tells the operator nothing; say so instead of dumping it.
  return 'the reply carried no readable reason';
}

/** "a: a: b" → "a: b", case-insensitively, however many times the lead repeats. */
function dropRepeatedLeads(text: string): string {
  const parts = text.split(/:\s+/);
  const kept: string[] = [];
  for (const part of parts) {
    const previous = kept[kept.length - 1];
    if (previous !== undefined && previous.toLowerCase() === part.toLowerCase()) continue;
    kept.push(part);
  }
  return kept.join(': ');
}

/**
 * Whether a message already tells the operator what to do (a sentence or clause starting with an
 * instruction), so a generic next step would only repeat it.
 */
export function saysWhatToDo(message: string): boolean {
  return /(?:[.;:]\s+|,\s+then\s+)(?:check|try|refresh|restart|reload|reopen|upgrade|edit|send|wait|cancel|correct|fix|use|shorten|change|free|copy|issue|open|add|remove|set|stop|pick|type|give|choose|clear|ask)\b/i.test(
    message,
  );
}

/**
 * One sentence: `lead: reason. next step` (or `lead. next step` without a reason). The reason is
 * cleaned ({@link cleanReason}); `nextStep` is left out when the reason already gives advice, and
 * a lead the reason starts with is not said again.
 */
export function sentence(lead: string, reason: string | null | undefined, nextStep: string): string {
  let text = cleanReason(reason);
  const head = lead.replace(/[.:\s]+$/, '');
  if (text.toLowerCase().startsWith(head.toLowerCase()))
    text = text.slice(head.length).replace(/^[:\s]+/, '');
  const advice = text !== '' && saysWhatToDo(text) ? '' : ` ${nextStep}`;
  return `${text === '' ? head : `${head}: ${text}`}.${advice}`.trim();
}

/** One operator-facing sentence: "Could not pause agent 1b4e28ba: <message>. <next step>". */
export function describeError(context: string, error: IpcError): string {
  return sentence(context, error.message, nextStepFor(error.code));
}

/**
 * The next step for a reason an agent server gave when it refused a request
 * (docs/PROTOCOL.md §4): the common ones get specific advice, anything else the general one.
 */
export function nextStepForServerError(reason: string | null | undefined): string {
  const text = (reason ?? '').toLowerCase();
  if (/agent not found|no such agent/.test(text))
    return 'Refresh the agent list: the agent may have ended or been removed, or the server restarted.';
  if (/unknown backend|backend '.*' is disabled/.test(text))
    return "Pick one of the server's enabled backends (listed in the reason).";
  if (/executable .* not found/.test(text))
    return "Install that program on the server's machine, or pick another backend.";
  if (/agent limit reached|max_agents/.test(text))
    return 'Stop agents that are no longer needed, or raise max_agents in the server config.';
  if (/invalid regex/.test(text)) return 'Fix or clear the filter.';
  if (/unknown action/.test(text)) return 'List the actions the agent offers and pick one of them.';
  if (/environment/.test(text)) return 'Remove or rename that environment variable.';
  if (/already exited|not running|not paused|is paused|stdin is closed/.test(text))
    return "Check the agent's current state: the command does not apply to it.";
  return "Check the agent's state and try again.";
}

/**
 * A server's refusal: "<lead>: <the server's reason>. <next step for that reason>". `lead`
 * says what was refused ("The server refused pause agent 1b4e28ba").
 */
export function describeRefusal(lead: string, reason: string | null | undefined): string {
  const cleaned = cleanReason(reason);
  return sentence(lead, cleaned === '' ? 'no reason given' : cleaned, nextStepForServerError(cleaned));
}

/**
 * Hands a successful call's value to `apply` and clears `error`; a failed call sets `error` to
 * the operator's sentence (see {@link describeError}) instead. Returns whether the call succeeded.
 */
export function applyResult<T>(
  result: IpcResult<T>,
  error: Ref<string | null>,
  context: string,
  apply: (value: T) => void,
): boolean {
  if (!result.ok) {
    error.value = describeError(context, result.error);
    return false;
  }
  apply(result.value);
  error.value = null;
  return true;
}
