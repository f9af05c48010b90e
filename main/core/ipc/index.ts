export type { ClientContext } from './clientContext';
export { createConsoleHandlers } from './consoleHandlers';
export type { ConsoleHandlers, ConsoleHandlersOptions, HandlerInput, HandlerTable } from './consoleHandlers';
export { EventBatcher } from './eventBatcher';
export type { EventBatcherOptions } from './eventBatcher';
export { csvField, historyToCsv, historyToJson, HISTORY_CSV_COLUMNS } from './historyExport';
export { invokeChannel, isChannelName } from './invokeChannel';
export { IpcFailure, toIpcFailure } from './ipcFailure';
