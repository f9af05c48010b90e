import { describe, expect, it } from 'vitest';
import { pageFromCommandReply } from '../../../../shared/domain/numberedOutput';
import type { CommandResponse, JsonValue } from '../../../../shared/protocol';

const reply = (data: JsonValue, success = true, error: string | null = null): CommandResponse => ({
  type: 'command_response',
  request_id: 'r1',
  agent_id: 'a1',
  success,
  status: 'running',
  data,
  error,
});

describe('pageFromCommandReply', () => {
  it('reads lines, numbers, streams and the dropped count into an output page', () => {
    const page = pageFromCommandReply(
      reply({
        lines: ['a', 'b'],
        total_lines: 7,
        has_more: true,
        dropped_lines: 3,
        line_numbers: [4, 9n],
        streams: ['stdout', 'stderr'],
      }),
    );
    expect(page).toEqual({
      type: 'output_query_response',
      request_id: 'r1',
      agent_id: 'a1',
      success: true,
      lines: ['a', 'b'],
      total_lines: 7,
      has_more: true,
      error: 'notice: 3 earlier lines dropped (output limits)',
      line_numbers: [4, 9],
      streams: ['stdout', 'stderr'],
    });
  });

  it('never passes on numbers it cannot trust, and keeps the server error of a refused query', () => {
    expect(pageFromCommandReply(reply({ lines: ['a'], line_numbers: [] }))).toMatchObject({
      success: false,
      error: "the server's query_output reply has no 'line_numbers' matching its lines",
    });
    expect(pageFromCommandReply(reply({ lines: ['a'], line_numbers: [-1] })).success).toBe(false);
    expect(pageFromCommandReply(reply(null))).toMatchObject({ success: false });
    expect(pageFromCommandReply(reply(null, false, 'invalid regex: x'))).toMatchObject({
      success: false,
      error: 'invalid regex: x',
    });
    // Streams that do not fit are left out (the line is then shown unmarked), not guessed.
    expect(
      pageFromCommandReply(reply({ lines: ['a'], line_numbers: [1], streams: ['x'] })).streams,
    ).toBeUndefined();
  });
});
