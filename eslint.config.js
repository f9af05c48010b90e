// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

/**
 * Who may import whom: docs/ARCHITECTURE.md §1. Our top-level folders are matched as relative
 * imports that climb to the repository root (`../../server/x`), so a file named like a layer
 * (`shared/domain/server.ts`) is not mistaken for one.
 */
const top = (dir) => `^(\\.\\./)+${dir}(/|$)`;
const ours = {
  main: [top('main')],
  server: [top('server')],
  renderer: [top('renderer')],
  preload: [top('preload')],
  electron: ['^electron(/|$)'],
  node: ['^node:', '^zeromq(/|$)', '^(fs|path|os|child_process|net|crypto)$'],
  electronLayer: ['(^|/)electron/', '(^|/)browser/'],
  /**
   * Node-only code shared by main/ and server/; seen from inside shared/ it is `../node/x`, or
   * `../../node/x` from a deeper folder such as shared/protocol/codec/.
   */
  sharedNode: ['^(\\.\\./)+shared/node(/|$)', '^(\\.\\./)+node(/|$)'],
};

/** @param {string} message @param {string[]} regexes */
const forbid = (message, regexes) => ({
  'no-restricted-imports': ['error', { patterns: regexes.map((regex) => ({ regex, message })) }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'bench/results/**', 'renderer/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      // One project service for every file: `.vue` is listed here too (not only for .vue files),
      // since a service asked with different extensions reloads its projects.
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.vue'],
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['shared/**'],
    ignores: ['shared/node/**'],
    rules: forbid(
      'shared/ runs anywhere: it imports nothing of ours outside shared/, no node:*, no electron.',
      [
        ...ours.main,
        ...ours.server,
        ...ours.renderer,
        ...ours.preload,
        ...ours.electron,
        ...ours.node,
        ...ours.sharedNode,
      ],
    ),
  },
  {
    files: ['shared/node/**'],
    rules: forbid('shared/node is Node code for main/ and server/: it imports shared/ and Node only.', [
      ...ours.main,
      ...ours.server,
      ...ours.renderer,
      ...ours.preload,
      ...ours.electron,
    ]),
  },
  {
    files: ['main/core/**'],
    rules: forbid('main/core is plain Node: no electron, no server, no renderer.', [
      ...ours.server,
      ...ours.renderer,
      ...ours.preload,
      ...ours.electron,
      ...ours.electronLayer,
    ]),
  },
  {
    files: ['main/electron/**', 'main/browser/**', 'main/cli/**', 'main/*.ts'],
    rules: forbid('main never imports server/ (it starts it as a process) nor the renderer.', [
      ...ours.server,
      ...ours.renderer,
      ...ours.preload,
    ]),
  },
  {
    files: ['server/**'],
    rules: forbid('server/ imports shared/ only, never main/.', [
      ...ours.main,
      ...ours.renderer,
      ...ours.preload,
      ...ours.electron,
    ]),
  },
  {
    files: ['preload/**'],
    rules: forbid('preload imports shared/ipc and electron only.', [
      ...ours.main,
      ...ours.server,
      ...ours.renderer,
      ...ours.sharedNode,
    ]),
  },
  {
    files: ['renderer/**'],
    rules: forbid('renderer talks through api.ts and imports shared/ only.', [
      ...ours.main,
      ...ours.server,
      ...ours.preload,
      ...ours.electron,
      ...ours.node,
      ...ours.sharedNode,
    ]),
  },
  // Vue single-file components: eslint-plugin-vue for the template, and for <script lang="ts">
  // the TS parser with type information, so the typed rules above apply as they do to .ts files.
  // The project service reads each component's script through the nearest tsconfig
  // (renderer/tsconfig.json). The renderer import boundary above matches renderer/** and so
  // covers .vue files too.
  ...pluginVue.configs['flat/recommended'].map((config) => ({ ...config, files: ['renderer/**/*.vue'] })),
  {
    files: ['renderer/**/*.vue'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.vue'],
        sourceType: 'module',
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Prettier formats templates; the plugin's layout rules would fight it.
      ...pluginVue.configs['no-layout-rules'].rules,
      // TypeScript checks names (vue-tsc); the core rule misreads type-only globals.
      'no-undef': 'off',
      'vue/multi-word-component-names': 'off',
    },
  },
  // The renderer's build config runs in Node under Vite and is in no tsconfig (the renderer's
  // has no Node types on purpose): lint it without type information.
  { files: ['renderer/vite.config.ts'], ...tseslint.configs.disableTypeChecked },
);
