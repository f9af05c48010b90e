/**
 * The sandboxed preload of the console window: exposes exactly `ConsoleApi` as
 * `window.descartes` and nothing else. It may only `require('electron')`, so it is bundled to
 * one CommonJS file with the contract constants inlined (see scripts/build.ts).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createConsoleBridge } from './consoleBridge';

contextBridge.exposeInMainWorld('descartes', createConsoleBridge(ipcRenderer));
