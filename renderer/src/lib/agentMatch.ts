/**
 * The text filter of the agents tables (one server's and all servers'): a row matches when its
 * name, task or backend contains the needle case-insensitively, or its id contains it as typed.
 * The lower-cased fields are kept per row object and made again only when a field changes, so
 * a keystroke over 10,000 rows costs no 30,000 `toLowerCase` copies (and their garbage).
 */

/** The fields the filter reads. */
export interface MatchableRow {
  readonly id: string;
  readonly name: string;
  readonly task: string;
  readonly backend: string;
}

interface Lowered {
  name: string;
  task: string;
  backend: string;
  lowerName: string;
  lowerTask: string;
  lowerBackend: string;
}

const lowered = new WeakMap<MatchableRow, Lowered>();

function lowerOf(row: MatchableRow): Lowered {
  let l = lowered.get(row);
  if (l === undefined) {
    l = { name: '', task: '', backend: '', lowerName: '', lowerTask: '', lowerBackend: '' };
    lowered.set(row, l);
  }
  // Rows are patched in place (a re-list may rename an agent): compare before trusting the copy.
  if (l.name !== row.name) {
    l.name = row.name;
    l.lowerName = row.name.toLowerCase();
  }
  if (l.task !== row.task) {
    l.task = row.task;
    l.lowerTask = row.task.toLowerCase();
  }
  if (l.backend !== row.backend) {
    l.backend = row.backend;
    l.lowerBackend = row.backend.toLowerCase();
  }
  return l;
}

/**
 * Whether `row` matches `needle`, which must already be trimmed and lower-cased (`''` matches
 * every row).
 */
export function matchesNeedle(row: MatchableRow, needle: string): boolean {
  if (needle === '') return true;
  const l = lowerOf(row);
  return (
    l.lowerName.includes(needle) ||
    row.id.includes(needle) ||
    l.lowerTask.includes(needle) ||
    l.lowerBackend.includes(needle)
  );
}
