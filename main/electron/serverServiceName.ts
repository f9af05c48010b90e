/**
 * The name the embedded agent server's utility process gets in `app.getAppMetrics()` and in
 * `child-process-gone` events. In a module of its own so that the package check, which runs
 * without Electron, can name it without importing 'electron'.
 */
export const SERVER_SERVICE_NAME = 'Descartes agent server';
