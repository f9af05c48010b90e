export { MAX_WS_MESSAGE_BYTES, startBrowserHost, TOKEN_COOKIE, TOKEN_PARAM, WS_PATH } from './browserHost';
export type { BrowserHost, BrowserHostOptions } from './browserHost';
export { parseWire, stringifyWire } from '../../shared/ipc/wireJson';
