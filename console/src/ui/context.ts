import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { GraphClient } from '../api/graphql.ts';
import type { Session } from '../auth/session.ts';

/** The signed-in session and its graph client, for every page. */
export interface ConsoleContext {
  session: Session;
  graph: GraphClient;
  navigate(path: string): void;
}

export const Console = createContext<ConsoleContext | null>(null);

/** The console context (pages render only when signed in). */
export function useConsole(): ConsoleContext {
  const value = useContext(Console);
  if (!value) throw new Error('useConsole outside the signed-in console');
  return value;
}

/** Loads `query` now and whenever `reload()` is called; keeps the last data while reloading. */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}) {
  const { graph } = useConsole();
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const key = JSON.stringify(variables);
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    graph.request<T>(query, JSON.parse(key) as Record<string, unknown>).then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (mine !== generation.current) return;
        setError(failure);
        setLoading(false);
      },
    );
  }, [graph, query, key]);
  useEffect(reload, [reload]);
  return { data, error, loading, reload };
}

/** Calls `onEvent` for every push of `subscription` while mounted. */
export function useLive<T>(
  subscription: string,
  onEvent: (data: T) => void,
  variables: Record<string, unknown> = {},
) {
  const { graph } = useConsole();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = JSON.stringify(variables);
  useEffect(
    () =>
      graph.subscribe<T>(subscription, JSON.parse(key) as Record<string, unknown>, (d) => handler.current(d)),
    [graph, subscription, key],
  );
}

/** Whether the signed-in person holds any of `roles`. */
export function useHasRole(...roles: string[]): boolean {
  const { session } = useConsole();
  return session.claims.roles.some((r) => roles.includes(r));
}

/** The current time, ticking every second (countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
