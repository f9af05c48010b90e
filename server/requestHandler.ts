import type { ReplyMessage, RequestMessage, ZmqMessage } from '../shared/protocol';
import {
  isMessageType,
  isRequestType,
  MAX_MESSAGE_BYTES,
  MAX_REQUEST_ID_BYTES,
  REPLY_TYPE,
} from '../shared/protocol';
import type { DedupeJournal } from './dedupeJournal';
import type { ExecLog } from './execLog';
import type { HandlerContext } from './handlers/context';
import { executeRequest } from './handlers/dispatch';
import { errorReply } from './handlers/errorReply';
import { PEEK_MAX_STRING_BYTES, peekRawRequest, type RawPeek } from './rawRequest';
import type { ReplyCache } from './replyCache';

/** The message an "outcome unknown" replay carries (the server died while running it). */
export const OUTCOME_UNKNOWN = 'outcome unknown: the server stopped while running this request';

type RequestType = RequestMessage['type'];

const MUTATING: ReadonlySet<RequestType> = new Set<RequestType>([
  'spawn_request',
  'control_command',
  'custom_action_request',
  'batch_control_command',
]);

/** The `query_output` control command only reads (docs/PROTOCOL.md §4.5): like an output query, it always runs. */
function isMutating(req: RequestMessage): boolean {
  return MUTATING.has(req.type) && !(req.type === 'control_command' && req.command_type === 'query_output');
}

/**
 * Whether an id of this many UTF-8 bytes is sent back in an error reply: only as long as a
 * peeked id may be, so a huge id (a client filling memory and logs) gets no reply at all.
 */
function echoable(idBytes: number): boolean {
  return idBytes <= PEEK_MAX_STRING_BYTES;
}

function agentIdOf(req: RequestMessage): string | undefined {
  return 'agent_id' in req ? req.agent_id : undefined;
}

export interface RequestHandlerDeps {
  readonly ctx: HandlerContext;
  readonly cache: ReplyCache;
  readonly journal: DedupeJournal | null;
  readonly execLog: ExecLog | null;
  readonly codec: {
    encode(message: ZmqMessage): Uint8Array;
    /** @throws with a message naming what is wrong */
    decode(bytes: Uint8Array): ZmqMessage;
  };
}

/**
 * Turns one frame into one encoded reply (or none). Never throws: bad input is counted and,
 * when a request id can be read, answered with `success: false` and an error naming the
 * problem; an exception in a handler becomes "internal error: …".
 *
 * Mutating requests (spawn, control, custom action, batch) are deduplicated by `request_id`
 * through the reply cache and, with a state dir, the journal; queries (health, list, output
 * query) always run, since running them twice changes nothing.
 */
export class RequestHandler {
  constructor(private readonly deps: RequestHandlerDeps) {}

  /** @returns the encoded reply, or null when there is nobody to answer (no request id) */
  async handle(payload: Uint8Array, totalBytes: number): Promise<Uint8Array | null> {
    const { ctx } = this.deps;
    if (totalBytes > MAX_MESSAGE_BYTES) {
      ctx.stats.increment('oversized');
      return this.answerBadInput(
        peekRawRequest(payload),
        `message of ${totalBytes} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`,
      );
    }
    let message: ZmqMessage;
    try {
      message = this.deps.codec.decode(payload);
    } catch (error) {
      const peek = peekRawRequest(payload);
      const unknownTag = peek.tag !== null && !isMessageType(peek.tag);
      ctx.stats.increment(unknownTag ? 'unknown_tags' : 'decode_errors');
      const detail = error instanceof Error ? error.message : String(error);
      return this.answerBadInput(
        peek,
        unknownTag ? `unknown message type '${peek.tag}': ${detail}` : `cannot decode request: ${detail}`,
      );
    }
    if (!isRequestType(message.type)) {
      ctx.stats.increment('not_requests');
      const requestId = 'request_id' in message ? message.request_id : null;
      if (requestId === null || !echoable(Buffer.byteLength(requestId, 'utf8'))) return null;
      return this.encode(
        errorReply(
          'control_command',
          requestId,
          `${message.type} is not a request (send one of ${Object.keys(REPLY_TYPE).join(', ')})`,
          ctx.serverId,
        ),
      );
    }
    const req = message as RequestMessage;
    const idBytes = Buffer.byteLength(req.request_id, 'utf8');
    if (idBytes > MAX_REQUEST_ID_BYTES) {
      ctx.stats.increment('bad_request_ids');
      if (!echoable(idBytes)) return null;
      return this.encode(
        errorReply(
          req.type,
          req.request_id,
          `request_id of ${idBytes} bytes exceeds the ${MAX_REQUEST_ID_BYTES}-byte limit; use a UUID`,
          ctx.serverId,
          agentIdOf(req),
        ),
      );
    }
    ctx.stats.increment('requests');
    return this.encode(await this.reply(req));
  }

  /** The error reply to a frame that could not be used, addressed by what `peek` read of it. */
  private answerBadInput(peek: RawPeek, error: string): Uint8Array | null {
    if (peek.requestId === null) return null;
    const type: RequestType = peek.tag !== null && isRequestType(peek.tag) ? peek.tag : 'control_command';
    return this.encode(errorReply(type, peek.requestId, error, this.deps.ctx.serverId));
  }

  private async reply(req: RequestMessage): Promise<ReplyMessage> {
    if (!isMutating(req)) return this.run(req);
    const { cache, journal, ctx } = this.deps;
    const known = cache.get(req.request_id);
    if (known) {
      if (known.type !== req.type) {
        return errorReply(
          req.type,
          req.request_id,
          `request_id ${req.request_id} was already used for a ${known.type}; use a fresh request_id`,
          ctx.serverId,
          agentIdOf(req),
        );
      }
      ctx.stats.increment('replays');
      switch (known.state) {
        case 'running':
          return known.reply;
        case 'done':
          return known.reply;
        case 'unknown':
          return errorReply(req.type, req.request_id, OUTCOME_UNKNOWN, ctx.serverId, agentIdOf(req));
        default: {
          const never: never = known;
          return never;
        }
      }
    }
    if (journal) {
      try {
        journal.begin(req.request_id, req.type);
      } catch (error) {
        return errorReply(
          req.type,
          req.request_id,
          `cannot record the request in the state dir, not running it: ${(error as Error).message}`,
          ctx.serverId,
          agentIdOf(req),
        );
      }
    }
    this.deps.execLog?.append({
      request_id: req.request_id,
      type: req.type,
      ...('agent_id' in req ? { agent_id: req.agent_id } : {}),
      ...('agent_ids' in req ? { agent_ids: req.agent_ids } : {}),
      ...('command_type' in req ? { command_type: req.command_type } : {}),
      ...('action' in req ? { action: req.action } : {}),
    });
    const running = this.run(req);
    cache.begin(req.request_id, req.type, running);
    const reply = await running;
    if (journal) {
      try {
        journal.reply(req.request_id, reply);
      } catch (error) {
        process.stderr.write(
          `descartes-server: cannot journal the reply of ${req.request_id}: ${String(error)}\n`,
        );
      }
    }
    return reply;
  }

  /** Runs a request, turning an unexpected exception into an "internal error" reply. */
  private async run(req: RequestMessage): Promise<ReplyMessage> {
    const { ctx } = this.deps;
    try {
      return await executeRequest(ctx, req);
    } catch (error) {
      ctx.stats.increment('internal_errors');
      const text = error instanceof Error ? error.message : String(error);
      process.stderr.write(
        `descartes-server: internal error in ${req.type} ${req.request_id}: ${error instanceof Error ? (error.stack ?? text) : text}\n`,
      );
      return errorReply(req.type, req.request_id, `internal error: ${text}`, ctx.serverId, agentIdOf(req));
    }
  }

  private encode(reply: ReplyMessage): Uint8Array | null {
    try {
      return this.deps.codec.encode(reply);
    } catch (error) {
      this.deps.ctx.stats.increment('internal_errors');
      process.stderr.write(
        `descartes-server: cannot encode ${reply.type} ${reply.request_id}: ${String(error)}\n`,
      );
      const fallback = errorReply(
        (Object.keys(REPLY_TYPE) as RequestType[]).find((t) => REPLY_TYPE[t] === reply.type) ??
          'control_command',
        reply.request_id,
        `internal error: cannot encode the reply: ${error instanceof Error ? error.message : String(error)}`,
        this.deps.ctx.serverId,
      );
      try {
        return this.deps.codec.encode(fallback);
      } catch {
        return null;
      }
    }
  }
}
