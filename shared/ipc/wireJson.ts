/**
 * JSON for the browser host's WebSocket, used by both ends (main/browser and the renderer's
 * client): protocol integers above 2^53 are `bigint`, which JSON cannot carry, so they travel
 * as `{"$bigint":"123"}`.
 */

/** Encodes a value, writing every bigint as `{"$bigint":"<decimal>"}`. @throws TypeError on cycles */
export function stringifyWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

/** Decodes text written by {@link stringifyWire}. @throws SyntaxError when it is not JSON */
export function parseWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const big = (v as { $bigint?: unknown }).$bigint;
      if (keys.length === 1 && typeof big === 'string' && /^-?\d{1,40}$/.test(big)) return BigInt(big);
    }
    return v;
  });
}
