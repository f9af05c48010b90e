/**
 * What a host of the console's page may add to {@link pageSecurityPolicy}'s fixed rules.
 */
export interface PageSources {
  /**
   * Extra WebSocket origins the page may connect to besides its own origin, e.g.
   * `ws://127.0.0.1:5173` (Vite's HMR) or `ws://127.0.0.1:<port>` (the browser host's API socket,
   * which `'self'` does not cover on every browser).
   */
  readonly webSockets?: readonly string[];
  /** Whether inline `<style>` tags are allowed: only the Vite dev server injects them. */
  readonly inlineStyleTags?: boolean;
}

/**
 * The Content-Security-Policy of the console's page, THE one definition for every host that
 * serves it: the Electron app protocol and window (main/electron/appPage.ts) and the browser host
 * (main/browser/browserHost.ts). The page's HTML carries none of its own, so no second copy can
 * drift.
 *
 * Scripts, styles, fonts, workers and images come from the page's own origin only (inline style
 * attributes excepted: Vue's `:style` bindings and pre-stringified static markup need them); no
 * plugins, frames, forms, or base-URL tricks, and no other site may frame the page.
 */
export function pageSecurityPolicy(sources: PageSources = {}): string {
  const webSockets = sources.webSockets ?? [];
  return [
    "default-src 'none'",
    "script-src 'self'",
    sources.inlineStyleTags === true ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...webSockets].join(' '),
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
