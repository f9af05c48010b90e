/**
 * A ROUTER on 127.0.0.1 whose answers a test scripts: it decodes each request and hands it to
 * `answer` with a `send` that replies to that request's peer (a message, or raw bytes to make a
 * server misbehave in ways ours never does). Close it when done.
 */
import * as zmq from 'zeromq';
import { decodeMessage, encodeMessage, type RequestMessage, type ZmqMessage } from '../../shared/protocol';

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
