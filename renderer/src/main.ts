/** Renderer entry: one Vue app with Pinia. The API (Electron preload or WebSocket) is chosen in api.ts. */
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles.css';

createApp(App).use(createPinia()).mount('#app');
