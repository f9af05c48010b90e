import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/**
 * The renderer bundle. `base: './'` makes every asset URL relative, so the same build loads from
 * `app://console/` inside Electron and from the browser host's HTTP server.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [vue()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
});
