// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Who may import whom: ARCHITECTURE.md §1. Each entry forbids the listed patterns in the listed files. */
const ours = {
  main: ['**/main/**', '**/main'],
  server: ['**/server/**', '**/server'],
  renderer: ['**/renderer/**'],
  preload: ['**/preload/**'],
  electron: ['electron', 'electron/*'],
  node: ['node:*', 'zeromq', 'zeromq/*', 'fs', 'path', 'os', 'child_process', 'net', 'crypto'],
};

/** @param {string} message @param {string[]} group */
const forbid = (message, group) => ({
  'no-restricted-imports': ['error', { patterns: [{ group, message }] }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'bench/results/**', 'renderer/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['shared/**'],
    rules: forbid('shared/ runs anywhere: it imports nothing of ours outside shared/, no node:*, no electron.', [
      ...ours.main, ...ours.server, ...ours.renderer, ...ours.preload, ...ours.electron, ...ours.node,
    ]),
  },
  {
    files: ['main/core/**'],
    rules: forbid('main/core is plain Node: no electron, no server, no renderer.', [
      ...ours.server, ...ours.renderer, ...ours.preload, ...ours.electron, '**/electron/**', '**/browser/**',
    ]),
  },
  {
    files: ['main/electron/**', 'main/browser/**', 'main/*.ts'],
    rules: forbid('main never imports server/ (it starts it as a process) nor the renderer.', [
      ...ours.server, ...ours.renderer, ...ours.preload,
    ]),
  },
  {
    files: ['server/**'],
    rules: forbid('server/ imports shared/ only, never main/.', [
      ...ours.main, ...ours.renderer, ...ours.preload, ...ours.electron,
    ]),
  },
  {
    files: ['preload/**'],
    rules: forbid('preload imports shared/ipc and electron only.', [...ours.main, ...ours.server, ...ours.renderer]),
  },
  {
    files: ['renderer/**'],
    rules: forbid('renderer talks through api.ts and imports shared/ only.', [
      ...ours.main, ...ours.server, ...ours.preload, ...ours.electron, ...ours.node,
    ]),
  },
);
