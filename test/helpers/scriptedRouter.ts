/**
 * A ROUTER on 127.0.0.1 whose answers a test scripts: it decodes each request and hands it to
 * `answer` with a `send` that replies to that request's peer (a message, or raw bytes to make a
 * server misbehave in ways ours never does). Close it when done.
 */
import * as zmq from 'zeromq';
import {
  decodeMessage,
  encodeMessage,
  type HealthCheckResponse,
  type RequestMessage,
  type ZmqMessage,
} from '../../shared/protocol';

const EMPTY = new Uint8Array(0);

export async function startScriptedRouter(
  port: number,
  answer: (
    req: RequestMessage,
    send: (msg: ZmqMessage | Uint8Array) => Promise<void>,
  ) => Promise<void> | void,
): Promise<zmq.Router> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind(`tcp://127.0.0.1:${port}`);
  void (async () => {
    try {
      for await (const [id, , payload] of router) {
        if (!id || !payload) continue;
        const req = decodeMessage(payload) as RequestMessage;
        await answer(req, (msg) =>
          router.send([id, EMPTY, msg instanceof Uint8Array ? msg : encodeMessage(msg)]),
        );
      }
    } catch {
      // closed
    }
  })();
  return router;
}

/**
 * A healthy server's reply to `req`. `metadata` null is a Rust descartes 1.0.0 server (no
 * capabilities, a legacy server to the console); `{ capabilities: 'batch,…' }` a current one.
 */
export function healthReply(
  req: RequestMessage,
  metadata: Record<string, string> | null = null,
): HealthCheckResponse {
  return {
    type: 'health_check_response',
    request_id: req.request_id,
    healthy: true,
    protocol_version: '1.0.0',
    uptime_secs: 1,
    active_agents: 0,
    metadata,
  };
}
