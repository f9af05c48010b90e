/**
 * "Test connection": one throwaway DEALER to an address with the security a profile would
 * use, one health check, and an answer that tells the operator what is wrong and what to do.
 * It shares nothing with the server's live connection, so testing never disturbs it.
 */
import { randomUUID } from 'node:crypto';
import { retryInterrupted } from '../../../shared/node/retryInterrupted';
import * as zmq from 'zeromq';
import { curveKeyFingerprint } from '../../../shared/domain/curveKey';
import type {
  ConnectionTestOutcome,
  ConnectionTestResult,
  HandshakeProblem,
  ServerSecurity,
} from '../../../shared/domain/server';
import type { CurveKeyPair } from '../../../shared/node/curveKeyPair';
import { decodeMessage, encodeMessage } from '../../../shared/protocol';
import { clientSocketOptions, type CurveClient } from './curveClient';
import { handshakeProblemText } from './handshakeProblemText';
import { watchSocketEvents, type SocketSignal } from './socketEvents';

/** How long a test tries by default, ms. */
export const DEFAULT_TEST_TIMEOUT_MS = 5000;

export interface ConnectionTestOptions {
  /** Command endpoint, `tcp://host:port`. */
  readonly endpoint: string;
  /** What the profile would use: a pinned server key, or plain. */
  readonly security: ServerSecurity;
  /** This console's key pair (used only when `security` is curve). */
  readonly clientKeyPair: CurveKeyPair;
  /** How long to wait for the health reply, ms; default 5000. */
  readonly timeoutMs?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Connects to `endpoint`, sends one health check and reports what happened:
 * - `ok` when a health reply came (with the server's id and the `security` it reports);
 * - a handshake problem as soon as the socket's monitor reports the refusal;
 * - after `timeoutMs`: `unreachable` when no TCP connection was ever made, otherwise
 *   `no_reply` (connected, but no health reply: not a descartes server, or a stuck one).
 * The socket is closed and no timer is left behind, whatever the outcome.
 * @throws never: a malformed endpoint is reported as `unreachable` with zeromq's reason
 */
export async function testConnection(options: ConnectionTestOptions): Promise<ConnectionTestResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
  const { endpoint, security } = options;
  const curve: CurveClient | null =
    security.mode === 'curve' ? { serverKey: security.serverKey, keyPair: options.clientKeyPair } : null;
  const result = (
    outcome: ConnectionTestOutcome,
    message: string,
    remoteServerId: string | null = null,
    serverSecurity: string | null = null,
  ): ConnectionTestResult => ({
    outcome,
    message,
    remoteServerId,
    serverSecurity,
    elapsedMs: Math.round(performance.now() - started),
  });

  let socket: zmq.Dealer;
  try {
    socket = new zmq.Dealer(clientSocketOptions(curve, 1000));
  } catch (e) {
    // zeromq checks the keys here; ours are validated before, so this is a key it still refuses.
    return result('server_key_mismatch', `The server key cannot be used: ${errorText(e)}.`);
  }
  // Written by the event watch, read when the time is up.
  const seen: { connected: boolean; refusedDetail: string | null } = {
    connected: false,
    refusedDetail: null,
  };
  let resolveProblem: (problem: HandshakeProblem) => void = () => undefined;
  const problem = new Promise<HandshakeProblem>((resolve) => {
    resolveProblem = resolve;
  });
  watchSocketEvents(socket, curve !== null, (signal: SocketSignal) => {
    if (signal.kind === 'connected') seen.connected = true;
    else if (signal.kind === 'refused') {
      if (signal.problem !== null) resolveProblem(signal.problem);
      else seen.refusedDetail = signal.detail;
    }
  });
  let resolveTimeout: (value: 'timeout') => void = () => undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    resolveTimeout = resolve;
  });
  const timer = setTimeout(() => {
    resolveTimeout('timeout');
  }, timeoutMs);
  try {
    try {
      retryInterrupted(() => {
        socket.connect(endpoint);
      });
    } catch (e) {
      return result('unreachable', `Cannot connect to ${endpoint}: ${errorText(e)}.`);
    }
    const requestId = randomUUID();
    // Queued by libzmq until the handshake is done, dropped with the socket if it never is.
    // Not awaited: the outcome, whichever comes first, is raced below.
    socket
      .send([EMPTY, encodeMessage({ type: 'health_check_request', request_id: requestId })])
      .catch(() => undefined);
    const outcome = await Promise.race([healthReply(socket, requestId), problem, timedOut]);
    if (outcome === 'timeout') {
      const secs = `${(timeoutMs / 1000).toFixed(1)} s`;
      if (!seen.connected) {
        return result(
          'unreachable',
          `Nothing accepted a connection at ${endpoint} within ${secs}. Check that the server runs ` +
            '(npm run server), the host and port, and any firewall in between.',
        );
      }
      return result(
        'no_reply',
        seen.refusedDetail === null
          ? `Connected to ${endpoint}, but no answer to a health check within ${secs}. Is this a descartes agent server, and is it responsive?`
          : `Something at ${endpoint} accepted the connection but did not speak ZeroMQ correctly (${seen.refusedDetail}). Is this the agent server's command port?`,
      );
    }
    if (typeof outcome === 'string') {
      return result(
        outcome,
        `${capitalize(
          handshakeProblemText(outcome, {
            endpoint,
            serverKey: curve?.serverKey ?? null,
            clientPublicKey: curve?.keyPair.publicKey ?? null,
          }),
        )}.`,
      );
    }
    const serverSecurity = outcome.metadata?.security ?? null;
    const remoteServerId = outcome.metadata?.server_id ?? null;
    return result(
      'ok',
      curve === null
        ? `Connected to ${endpoint} without encryption: anyone on the network path can read and change commands.`
        : `Connected to ${endpoint}, encrypted; the server proved it holds the pinned key (${curveKeyFingerprint(curve.serverKey)}).`,
      remoteServerId,
      serverSecurity,
    );
  } finally {
    clearTimeout(timer);
    // Ends the receive loop and the event watch with it.
    socket.close();
  }
}

/** Health reply fields the test reports. */
interface HealthFacts {
  readonly metadata: Readonly<Record<string, string>> | null;
}

/** Resolves with the health reply to `requestId`; skips anything else. Never rejects. */
async function healthReply(socket: zmq.Dealer, requestId: string): Promise<HealthFacts> {
  try {
    for await (const frames of socket) {
      const payload = frames.length >= 2 && frames[0]?.length === 0 ? frames[1] : frames[frames.length - 1];
      if (!payload) continue;
      try {
        const msg = decodeMessage(payload);
        if (msg.type === 'health_check_response' && msg.request_id === requestId) {
          return { metadata: msg.metadata ?? null };
        }
      } catch {
        // Not a descartes reply: keep waiting, the timeout reports no_reply.
      }
    }
  } catch {
    // Closed by the caller after another outcome won.
  }
  return new Promise<never>(() => undefined);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
