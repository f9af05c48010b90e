/**
 * descartes 1.0.0 wire protocol: message types and the positional msgpack codec (docs/PROTOCOL.md §2–3).
 *
 * - `encodeMessage(msg)` gives exactly the bytes `rmp_serde::to_vec` writes for the Rust value.
 * - `decodeMessage(bytes)` accepts and rejects what the Rust decoder does (array or map form,
 *   UUIDs as bin or text, SystemTime as array or map, …) and returns every field (`null` for None).
 *   Its work is bounded for any input up to 10 MiB: nesting deeper than 1023 arrays/maps is
 *   refused (rmp_serde's limit), and so is a message whose values would take more than
 *   1 MiB + 8× its size of memory, at most 12 MiB (`heapBudget` in codec/reader.ts; no Rust
 *   peer sends such a message).
 * - Both throw only `ProtocolError` (code `decode`, `encode` or `too_large`) for bad input.
 *
 * Why a schema-driven codec and not `@msgpack/msgpack`: codec/README.md (byte-exact int forms and key
 * order, and Rust's rejections of duplicate fields, invalid UTF-8 and ext values).
 */
export * from './types';
export { ProtocolError, type ProtocolErrorCode } from './errors';
export { encodeMessage } from './codec/encode';
export { encodeMessageOnce, rememberEncoding } from './codec/encodedOnce';
export { decodeMessage } from './codec/decode';
