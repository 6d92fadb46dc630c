/** The console's pages, in navigation order. */
export const PAGES = [
  { key: 'approvals', label: 'Approvals', path: '/console/approvals' },
  { key: 'tasks', label: 'Tasks', path: '/console/tasks' },
  { key: 'knowledge', label: 'Knowledge', path: '/console/knowledge' },
  { key: 'traces', label: 'Traces', path: '/console/traces' },
  { key: 'usage', label: 'Usage', path: '/console/usage' },
  { key: 'generations', label: 'Generations', path: '/console/generations' },
  { key: 'audit', label: 'Audit log', path: '/console/audit' },
  { key: 'dead-letters', label: 'Dead letters', path: '/console/dead-letters' },
] as const;

/** A page and its parameter. */
export interface Route {
  page: string;
  id?: string;
}

/** The page a path shows (`/console/` is the approvals inbox); a query string is the page's own. */
export function routeOf(path: string): Route {
  const parts = path
    .replace(/[?#].*$/, '')
    .replace(/^\/console\/?/, '')
    .split('/')
    .filter(Boolean);
  if (parts[0] === 'tasks' && parts[1]) return { page: 'task', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'traces' && parts[1]) return { page: 'trace', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'generations' && parts[1]) return { page: 'generation', id: decodeURIComponent(parts[1]) };
  const page = PAGES.find((p) => p.key === parts[0]);
  return { page: page?.key ?? 'approvals' };
}

/** The path of the generations list filtered by the given fields (each a query parameter the page reads). */
export function generationsPath(filter: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams(
    Object.entries(filter).filter((entry): entry is [string, string] => Boolean(entry[1])),
  ).toString();
  return `/console/generations${query ? `?${query}` : ''}`;
}
