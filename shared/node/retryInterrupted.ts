/**
 * Synchronous zeromq calls that a signal can interrupt.
 *
 * libzmq processes its pending commands inside `zmq_connect`, `zmq_disconnect` and
 * `zmq_socket_monitor`, waiting on its mailbox with `poll(2)`, which a delivered signal ends
 * with EINTR whatever the handler's flags. zeromq.js retries its asynchronous calls (bind,
 * send, receive) on EINTR but throws it from these synchronous ones, and the console gets
 * signals: SIGCHLD from child processes, SIGPROF under a profiler. Uncaught, one such error
 * from a reconnect timer could end the main process.
 */
import { isErrno } from './isErrno';

/** How many times a call is tried before its last EINTR is thrown. */
export const INTERRUPTED_TRIES = 100;

/**
 * Runs `call`, again while it throws EINTR (or another code in `alsoRetry`), at most
 * {@link INTERRUPTED_TRIES} times in all.
 * @param alsoRetry codes that an interrupted earlier attempt can cause on the next one
 * @throws what `call` throws otherwise, or its error after the last try
 */
export function retryInterrupted<T>(call: () => T, alsoRetry: readonly string[] = []): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return call();
    } catch (error) {
      const retryable = isErrno(error, 'EINTR') || alsoRetry.some((code) => isErrno(error, code));
      if (!retryable || attempt >= INTERRUPTED_TRIES) throw error;
    }
  }
}

/** What `socket.events` needs: zeromq.js sockets have it. */
export interface Observable<E> {
  readonly events: E;
}

/**
 * `socket.events`, zeromq.js's socket monitor, made safe from signals. Its constructor monitors
 * the socket on an inproc address named after the new observer's memory address and then
 * connects to it; an EINTR between the two leaves that address taken, so a later observer that
 * gets the same memory sees EADDRINUSE. Both are retried (each try is a new observer).
 */
export function socketEvents<E>(socket: Observable<E>): E {
  return retryInterrupted(() => socket.events, ['EADDRINUSE']);
}
