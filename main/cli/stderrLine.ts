/**
 * Whether a terminal acts on this UTF-16 code unit instead of showing it: C0 controls (tab
 * excepted), DEL and C1, and the Unicode marks that reorder text on screen (bidi marks,
 * embeddings, overrides and isolates).
 */
function isUnsafe(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * Makes `text` one line a terminal shows as written: line breaks (and the blanks around them)
 * become " | ", and every other control character is shown escaped (`\u001b`), never acted
 * on. ctl's error lines quote servers' and agents' text: raw, an escape sequence could retitle
 * the terminal, clear it, or draw a line ctl never wrote.
 * @returns the line, ending in one `\n`
 */
export function stderrLine(text: string): string {
  const joined = text.replace(/[\r\n]+$/, '').replace(/\s*[\r\n]+\s*/g, ' | ');
  let line = '';
  for (let i = 0; i < joined.length; i++) {
    const code = joined.charCodeAt(i);
    line += isUnsafe(code) ? `\\u${code.toString(16).padStart(4, '0')}` : String.fromCharCode(code);
  }
  return `${line}\n`;
}
