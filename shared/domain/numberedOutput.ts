/**
 * Output pages with original line numbers (docs/PROTOCOL.md §4.4). The positional
 * `output_query_response` cannot carry them, so a server that advertises
 * {@link LINE_NUMBERS_CAPABILITY} is asked with the `query_output` control command, whose JSON
 * data adds `line_numbers` (and `streams` for `both`). This file turns that reply into the
 * output-query shape the console already pages with, plus the numbers.
 *
 * Plain data only: no Node APIs, so the renderer may import it.
 */
import type { CommandResponse, JsonValue, OutputQueryResponse } from '../protocol/types';
import { droppedLinesNotice } from './droppedLines';

/** Health capability of a server whose `query_output` data carries original line numbers. */
export const LINE_NUMBERS_CAPABILITY = 'output_line_numbers';

/** Stream of one stored line. */
export type LineStreamName = 'stdout' | 'stderr';

/**
 * An output page. `line_numbers` (1-based, dropped lines counted in: stable as older lines are
 * dropped) and `streams` are present only when the server reported them; without them a
 * filtered line's original number is unknown.
 */
export interface NumberedOutputPage extends OutputQueryResponse {
  readonly line_numbers?: number[];
  readonly streams?: LineStreamName[];
}

function field(data: JsonValue | undefined, name: string): JsonValue | undefined {
  return data !== null && typeof data === 'object' && !Array.isArray(data) && !(data instanceof Uint8Array)
    ? (data as Record<string, JsonValue>)[name]
    : undefined;
}

function wireNumber(value: JsonValue | undefined): number | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n) return Number(value);
  return null;
}

/**
 * Reads a `query_output` command reply as an output page. A reply whose data lacks or garbles
 * a field is a failed page naming the field (never numbers that might be wrong).
 */
export function pageFromCommandReply(reply: CommandResponse): NumberedOutputPage {
  const base = {
    type: 'output_query_response' as const,
    request_id: reply.request_id,
    agent_id: reply.agent_id,
  };
  const failed = (error: string): NumberedOutputPage => ({
    ...base,
    success: false,
    lines: [],
    has_more: false,
    error,
  });
  if (!reply.success) return failed(reply.error ?? 'the server gave no reason');
  const data = reply.data;
  const lines = field(data, 'lines');
  const numbers = field(data, 'line_numbers');
  const streams = field(data, 'streams');
  const total = wireNumber(field(data, 'total_lines'));
  const dropped = wireNumber(field(data, 'dropped_lines')) ?? 0;
  if (!Array.isArray(lines) || !lines.every((l) => typeof l === 'string')) {
    return failed("the server's query_output reply has no 'lines' list");
  }
  const numberList = Array.isArray(numbers) ? numbers.map(wireNumber) : null;
  if (numberList === null || numberList.length !== lines.length || numberList.includes(null)) {
    return failed("the server's query_output reply has no 'line_numbers' matching its lines");
  }
  const streamList =
    Array.isArray(streams) &&
    streams.length === lines.length &&
    streams.every((s) => s === 'stdout' || s === 'stderr')
      ? (streams as LineStreamName[])
      : undefined;
  return {
    ...base,
    success: true,
    lines,
    total_lines: total,
    has_more: field(data, 'has_more') === true,
    error: dropped > 0 ? droppedLinesNotice(dropped) : null,
    line_numbers: numberList as number[],
    ...(streamList ? { streams: streamList } : {}),
  };
}

/**
 * An agent's newest stored lines, oldest first, sent to a live tail that lost chunks so it can
 * show what it missed. `streams` (one per line) is present only when the server reported them
 * (a server with {@link LINE_NUMBERS_CAPABILITY}); without them a line's stream is unknown.
 */
export interface StoredTail {
  readonly lines: string[];
  readonly streams?: LineStreamName[];
}

/** The {@link StoredTail} of a page of the newest lines (streams kept only when complete). */
export function storedTailOf(page: NumberedOutputPage): StoredTail {
  const streams = page.streams;
  return streams !== undefined && streams.length === page.lines.length
    ? { lines: page.lines, streams }
    : { lines: page.lines };
}
