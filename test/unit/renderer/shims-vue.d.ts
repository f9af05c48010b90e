// For tools that read renderer .ts files without Vue support (tsc, the ESLint project
// service); vue-tsc resolves the real components instead.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}
