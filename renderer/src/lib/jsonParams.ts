/**
 * Live validation of the custom-action params textarea. A small JSON scanner finds the first
 * error's position itself, because engines word (and locate) `JSON.parse` errors differently.
 */

export type JsonCheck =
  | { ok: true; value: unknown; empty: boolean }
  | { ok: false; message: string; position: number; line: number; column: number };

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** Line and column (both 1-based) of a character offset in `text`. */
export function lineColumnOf(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

function describeChar(text: string, at: number): string {
  const ch = text[at];
  return ch === undefined ? 'end of input' : `'${ch}'`;
}

/** Validates JSON syntax; throws JsonSyntaxError at the first problem. */
function scan(text: string): void {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const expect = (what: string, ok: boolean): void => {
    if (!ok) throw new JsonSyntaxError(`expected ${what} but found ${describeChar(text, i)}`, i);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return;
    }
    throw new JsonSyntaxError(`unexpected ${describeChar(text, i)} (did you mean ${word}?)`, i);
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new JsonSyntaxError('unterminated string: add the closing "', i);
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            throw new JsonSyntaxError('\\u must be followed by 4 hex digits', i);
          }
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) {
          i += 2;
        } else {
          throw new JsonSyntaxError(`invalid escape \\${esc ?? ''}`, i);
        }
        continue;
      }
      if (ch.charCodeAt(0) < 0x20)
        throw new JsonSyntaxError('control character in string: use \\n or \\t', i);
      i++;
    }
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) throw new JsonSyntaxError(`invalid number at ${describeChar(text, i)}`, i);
    i += match[0].length;
  };
  /** Past an opening bracket: true (and past `close`) when the object or array is empty. */
  const opensEmpty = (close: '}' | ']'): boolean => {
    i++;
    ws();
    if (text[i] !== close) return false;
    i++;
    return true;
  };
  /** After a member or element: true when a comma says another follows, false past `close`. */
  const another = (close: '}' | ']'): boolean => {
    ws();
    if (text[i] === ',') {
      i++;
      ws();
      if (text[i] === close) throw new JsonSyntaxError(`trailing comma before '${close}': remove it`, i - 1);
      return true;
    }
    expect(`',' or '${close}'`, text[i] === close);
    i++;
    return false;
  };
  const value = (depth: number): void => {
    if (depth > 500) throw new JsonSyntaxError('nested too deeply', i);
    ws();
    const ch = text[i];
    if (ch === '{') {
      if (opensEmpty('}')) return;
      do {
        ws();
        expect('a property name in double quotes', text[i] === '"');
        string();
        ws();
        expect("':' after the property name", text[i] === ':');
        i++;
        value(depth + 1);
      } while (another('}'));
      return;
    }
    if (ch === '[') {
      if (opensEmpty(']')) return;
      do value(depth + 1);
      while (another(']'));
      return;
    }
    if (ch === '"') {
      string();
      return;
    }
    if (ch === 't') {
      literal('true');
      return;
    }
    if (ch === 'f') {
      literal('false');
      return;
    }
    if (ch === 'n') {
      literal('null');
      return;
    }
    if (ch === "'") throw new JsonSyntaxError('strings need double quotes, not single quotes', i);
    if (ch !== undefined && /[-0-9]/.test(ch)) {
      number();
      return;
    }
    throw new JsonSyntaxError(`expected a value but found ${describeChar(text, i)}`, i);
  };
  value(0);
  ws();
  if (i < text.length) throw new JsonSyntaxError(`unexpected ${describeChar(text, i)} after the value`, i);
}

/**
 * Checks the params text. Empty (or only whitespace) means "no params" (`value: undefined`).
 * On a syntax error, `message` names the problem with its line and column (1-based) and
 * `position` is the character offset, so the form can place the caret there.
 */
export function checkJsonParams(text: string): JsonCheck {
  if (text.trim() === '') return { ok: true, value: undefined, empty: true };
  try {
    scan(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      const { line, column } = lineColumnOf(text, error.position);
      return {
        ok: false,
        message: `Line ${line}, column ${column}: ${error.message}.`,
        position: error.position,
        line,
        column,
      };
    }
    throw error;
  }
  return { ok: true, value: JSON.parse(text) as unknown, empty: false };
}
