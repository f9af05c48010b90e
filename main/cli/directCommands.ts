/**
 * `ctl` without `--queue`: one Connection, one request, the reply printed. Nothing is stored,
 * so an offline server is an immediate error (exit 3) rather than a queued command.
 */
import { randomUUID } from 'node:crypto';
import type { ReplyMessage } from '../../shared/protocol';
import { sendTranslated } from '../core/queue/legacyTranslation';
import type { ServerProfile } from '../../shared/domain/server';
import { ProfileError, ProfileStore } from '../core/services/profileStore';
import { Connection, type ConnectionSnapshot } from '../core/transport/connection';
import { RequestError } from '../core/transport/requestError';
import { sameEndpoint } from '../core/transport/endpoints';
import type { CtlCommand, CtlOptions } from './ctlArgs';
import { EXIT, toJson, type ExitCode } from './ctlOutput';
import { requestFor, replySucceeded, type CtlIo } from './ctlRequests';
import { ctlCurve, ctlSecurity } from './ctlSecurity';

/** Thrown when the server does not answer its first health check in time. */
export class OfflineError extends Error {
  override readonly name = 'OfflineError';
}

/**
 * Connects (encrypted when `--server-key` is given or the console's profile for the endpoint
 * pins a key), waits for the first health reply (at most `--connect-timeout`), sends the
 * request and prints the reply.
 * @returns the exit code; never throws for server-side failures (they are reported)
 * @throws OfflineError when the server is unreachable or refuses the handshake (nothing was
 *   sent); KeyFileError when the console's key file cannot be used
 */
export async function runDirect(
  command: Extract<
    CtlCommand,
    { kind: 'health' | 'list' | 'query' | 'spawn' | 'control' | 'action' | 'batch' }
  >,
  given: CtlOptions,
  io: CtlIo,
): Promise<ExitCode> {
  const profile = storedProfile(given, io);
  // Without --server, the local server the console started is meant (it may have moved off
  // 5555 when that port was taken, e.g. by someone else's listener): use its endpoint and key.
  const options =
    !given.serverGiven && profile?.embedded === true ? { ...given, server: profile.endpoint } : given;
  const curve = ctlCurve(ctlSecurity(options, profile), options, io);
  const connection = new Connection({
    endpoint: options.server,
    requestTimeoutMs: options.replyTimeoutMs,
    curve,
  });
  try {
    connection.start();
    if (!(await waitOnline(connection, options.connectTimeoutMs))) {
      throw new OfflineError(offlineText(options, connection.snapshot()));
    }
    const request = requestFor(command, randomUUID());
    const legacy = connection.snapshot().info?.legacy ?? false;
    if (legacy && request.type === 'output_query_request') {
      io.err(`ctl: server ${options.server} is a descartes 1.0.0 server without output queries\n`);
      return EXIT.error;
    }
    let reply: ReplyMessage;
    try {
      reply = await sendTranslated(connection, request, legacy, options.replyTimeoutMs);
    } catch (e) {
      if (e instanceof RequestError && e.outcomeUnknown) {
        io.out(
          toJson({ status: 'unknown', request_id: request.request_id, reason: e.message }, options.pretty),
        );
        io.err(`ctl: outcome unknown: ${e.message}\n`);
        return EXIT.unconfirmed;
      }
      if (e instanceof RequestError && e.code === 'offline') throw new OfflineError(e.message);
      throw e;
    }
    io.out(toJson(reply, options.pretty));
    if (replySucceeded(reply)) return EXIT.ok;
    io.err(`ctl: ${request.type} failed: ${failureText(reply)}\n`);
    return EXIT.error;
  } finally {
    await connection.close();
  }
}

/**
 * Resolves true once the connection is online; false after `timeoutMs`, or as soon as the
 * server refuses the handshake (waiting longer would not change that).
 */
export function waitOnline(
  connection: Pick<Connection, 'snapshot' | 'onChange'>,
  timeoutMs: number,
): Promise<boolean> {
  const now = connection.snapshot();
  if (now.state === 'online') return Promise.resolve(true);
  if (now.handshakeProblem !== null) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(false);
    }, timeoutMs);
    const stop = connection.onChange((s) => {
      if (s.state !== 'online' && s.handshakeProblem === null) return;
      clearTimeout(timer);
      stop();
      resolve(s.state === 'online');
    });
  });
}

/** Why the server could not be used, for exit code 3. */
function offlineText(options: CtlOptions, snap: ConnectionSnapshot): string {
  const unsent = 'nothing was sent (use --queue to deliver it later)';
  if (snap.handshakeProblem !== null && snap.lastError !== null) {
    return `server ${options.server} refused the connection: ${snap.lastError}; ${unsent}`;
  }
  return (
    `server ${options.server} is offline: no answer to a health check within ${options.connectTimeoutMs / 1000} s` +
    `${snap.lastError === null ? '' : ` (${snap.lastError})`}; ${unsent}`
  );
}

/**
 * The console's profile for `--server` (for its pinned key), or, when no server was named, its
 * embedded local server's. A server list that cannot be read does not stop a direct command
 * (it stores nothing there); stderr says it was ignored.
 */
function storedProfile(options: CtlOptions, io: CtlIo): ServerProfile | null {
  try {
    const profiles = new ProfileStore(options.dataDir).list();
    const embedded = options.serverGiven ? undefined : profiles.find((p) => p.embedded);
    return embedded ?? profiles.find((p) => sameEndpoint(p.endpoint, options.server)) ?? null;
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    io.err(`ctl: ignoring the console's server list: ${e.message}
`);
    return null;
  }
}

/** One line saying why a reply is not a success. */
export function failureText(reply: ReplyMessage): string {
  switch (reply.type) {
    case 'health_check_response':
      return 'the server reports it is not healthy';
    case 'batch_control_response':
      return `${String(reply.failed)} of ${reply.results.length} agent(s) failed${
        reply.results.find((r) => !r.success)?.error
          ? `: ${reply.results.find((r) => !r.success)?.error ?? ''}`
          : ''
      }`;
    case 'spawn_response':
    case 'command_response':
    case 'list_agents_response':
    case 'output_query_response':
      return reply.error ?? 'the server reported failure without a reason';
    default: {
      const never: never = reply;
      return never;
    }
  }
}
