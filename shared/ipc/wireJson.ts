/**
 * JSON for the browser host's WebSocket, used by both ends (main/browser and the renderer's
 * client): protocol integers above 2^53 are `bigint`, which JSON cannot carry, so they travel
 * as `{"$bigint":"123"}`.
 *
 * Both ends take the plain (native, callback-free) JSON path when no bigint is involved, which
 * is nearly every message: a replacer or reviver is called for every value, and a status flood
 * carries tens of thousands of values a second.
 */

const BIGINT_KEY = '$bigint';

const replaceBigint = (_key: string, v: unknown): unknown =>
  typeof v === 'bigint' ? { [BIGINT_KEY]: v.toString() } : v;

/** Encodes a value, writing every bigint as `{"$bigint":"<decimal>"}`. @throws TypeError on cycles */
export function stringifyWire(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // Plain JSON refuses a bigint (and a cycle, which the replacer refuses again).
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, replaceBigint);
  }
}

const reviveBigint = (_key: string, v: unknown): unknown => {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const big = (v as { $bigint?: unknown }).$bigint;
    if (keys.length === 1 && typeof big === 'string' && /^-?\d{1,40}$/.test(big)) return BigInt(big);
  }
  return v;
};

/** Decodes text written by {@link stringifyWire}. @throws SyntaxError when it is not JSON */
export function parseWire(text: string): unknown {
  // A key can only read "$bigint" if the text holds it literally or spells a character of it
  // with a \u escape: without either, the reviver would change nothing.
  if (!text.includes(BIGINT_KEY) && !text.includes('\\u')) return JSON.parse(text) as unknown;
  return JSON.parse(text, reviveBigint) as unknown;
}
