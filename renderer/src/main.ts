/**
 * Renderer entry: one Vue app with Pinia and the hash router (renderer/src/router.ts). The API
 * (Electron preload or WebSocket) is chosen in api.ts.
 */
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { consoleRouter } from './router';
import './styles.css';

createApp(App).use(createPinia()).use(consoleRouter()).mount('#app');
