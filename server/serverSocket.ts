import type * as zmq from 'zeromq';
import { MAX_MESSAGE_BYTES } from '../shared/protocol';
import { bindError, checkEndpoint } from './endpoints';
import { HANDSHAKE_TIMEOUT_MS, type ServerSecurity } from './security/serverSecurity';

/** The options every bound socket of the server (ROUTER and PUB) shares, its security included. */
export function serverSocketOptions(
  security: ServerSecurity,
): zmq.SocketOptions<zmq.Router> & zmq.SocketOptions<zmq.Publisher> {
  return {
    // libzmq drops a peer that sends a larger frame.
    maxMessageSize: MAX_MESSAGE_BYTES,
    linger: 500,
    // A peer gets 5 s to finish its handshake (libzmq's default is 30 s): connections that
    // never authenticate must not hold descriptors for long.
    handshakeInterval: HANDSHAKE_TIMEOUT_MS,
    ...security.socketOptions(),
  };
}

/**
 * Binds a server socket, its handshakes watched by `security` (`what` names it in what is
 * reported); closes the socket when the bind fails.
 * @returns the bound endpoint with its port resolved
 * @throws BindError naming the endpoint when it is in use or invalid
 */
export async function bindServerSocket(
  socket: zmq.Router | zmq.Publisher,
  endpoint: string,
  security: ServerSecurity,
  what: string,
): Promise<string> {
  security.watch(socket, what);
  try {
    checkEndpoint(endpoint);
    await socket.bind(endpoint);
  } catch (error) {
    socket.close();
    throw bindError(endpoint, error);
  }
  return socket.lastEndpoint ?? endpoint;
}
