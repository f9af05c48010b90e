/**
 * The console's URLs (docs/ARCHITECTURE.md §1.1): one hash route per view, so Back/Forward,
 * links to an agent and a reload all work in the browser host and on Electron's `app://` page
 * alike (the hash never reaches the host, which serves the one `index.html`).
 */
import {
  createRouter,
  createWebHashHistory,
  type RouteLocationNormalizedLoaded,
  type Router,
  type RouterHistory,
  type RouteRecordRaw,
} from 'vue-router';
import type { Component } from 'vue';
import { schemas } from '../../shared/ipc/schemas';
import AgentView from './views/AgentView.vue';
import AgentsView from './views/AgentsView.vue';
import QueueView from './views/QueueView.vue';
import ServersView from './views/ServersView.vue';

/**
 * Every view with a URL, one entry each: adding a view is adding an entry here (its name joins
 * `ViewName`, the ui store's `view` follows). Path params are passed to the view as props;
 * `serverId` and `agentId` params are validated and looked up before the view shows
 * (`renderer/src/composables/useRouteTarget.ts`). The component is behind a function because
 * views import the ui store, which imports this module.
 */
export const VIEW_ROUTES = [
  { name: 'servers', path: '/servers', component: () => ServersView },
  { name: 'agents', path: '/servers/:serverId', component: () => AgentsView },
  { name: 'agent', path: '/servers/:serverId/agents/:agentId', component: () => AgentView },
  { name: 'queue', path: '/queue', component: () => QueueView },
  // More views go here, e.g. the all-servers agents table `/fleet` and the merged log `/logs`.
] as const satisfies readonly { name: string; path: string; component: () => Component }[];

/** A view's route name. */
export type ViewName = (typeof VIEW_ROUTES)[number]['name'];

/** Where an empty URL and an unknown one lead. */
export const HOME_VIEW: ViewName = 'servers';

const HOME_PATH = '/servers';

const VIEW_NAMES: ReadonlySet<string> = new Set(VIEW_ROUTES.map((r) => r.name));

/** The view a route shows (the home view for a route that names none). */
export function viewOf(route: { readonly name?: RouteLocationNormalizedLoaded['name'] | null }): ViewName {
  const name = route.name;
  return typeof name === 'string' && VIEW_NAMES.has(name) ? (name as ViewName) : HOME_VIEW;
}

/** A route param as one string, or null when absent (a repeated param is not one of ours). */
export function paramOf(route: Pick<RouteLocationNormalizedLoaded, 'params'>, key: string): string | null {
  const value = route.params[key];
  return typeof value === 'string' ? value : null;
}

/**
 * Why an id taken from a URL cannot name a server or an agent (the same rules as the IPC
 * schemas, `shared/ipc/schemas.ts`), or null when it can.
 */
export function invalidIdReason(kind: 'server' | 'agent', id: string): string | null {
  const shape = schemas.tailLogs.shape;
  const parsed = kind === 'server' ? shape.serverId.safeParse(id) : shape.agentId.safeParse(id);
  if (parsed.success) return null;
  return kind === 'server'
    ? 'a server id is 1 to 200 characters'
    : 'an agent id is a UUID like 0f8e4c2a-3b1d-4e5f-9a6b-7c8d9e0f1a2b';
}

/** The route records: the views, `/` and every unknown path lead home. */
export function routeRecords(): RouteRecordRaw[] {
  return [
    ...VIEW_ROUTES.map((r) => ({ name: r.name, path: r.path, component: r.component(), props: true })),
    // A path, not the name: a named redirect would carry the unknown path along as a param.
    { path: '/', redirect: HOME_PATH },
    { path: '/:unknown(.*)*', redirect: HOME_PATH },
  ];
}

/** A router over `history` (tests pass `createMemoryHistory()`). */
export function createConsoleRouter(history: RouterHistory): Router {
  return createRouter({ history, routes: routeRecords() });
}

let shared: Router | null = null;

/** The app's router (hash history), created on first use; main.ts installs it, the ui store drives it. */
export function consoleRouter(): Router {
  shared ??= createConsoleRouter(createWebHashHistory());
  return shared;
}

/**
 * Whether the app opened on an empty URL (then the first-run landing may pick a view); false
 * after a deep link, a reload on a view, or any navigation since.
 */
export function openedWithoutRoute(route: Pick<RouteLocationNormalizedLoaded, 'redirectedFrom'>): boolean {
  return route.redirectedFrom?.path === '/';
}
