// A connection query behind a filter form: the draft the form edits, the filter applied on submit, the
// first page (reloadable) and "Load more" pages after it by cursor. Used by the audit log, traces and generations.
import { useState } from 'preact/hooks';
import { useConsole, useQuery } from './context.ts';

/** A Relay connection's edges and page info. */
export interface Connection<N> {
  edges: { node: N }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Pages of `query`, whose variables come from the applied filter; `pick` finds the connection in the data. */
export function useFilteredPages<F extends Record<string, string>, N, D>(
  query: string,
  empty: F,
  variablesOf: (filter: F) => Record<string, unknown>,
  pick: (data: D) => Connection<N>,
) {
  const { graph } = useConsole();
  const [draft, setDraft] = useState<F>(empty);
  const [applied, setApplied] = useState<F>(empty);
  const { data, error, loading, reload } = useQuery<D>(query, variablesOf(applied));
  const [more, setMore] = useState<N[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>();
  const [moreError, setMoreError] = useState<unknown>();
  const first = data === undefined ? undefined : pick(data);
  const rows = [...(first?.edges.map((e) => e.node) ?? []), ...more];
  const next = cursor === undefined ? first?.pageInfo : { hasNextPage: cursor !== null, endCursor: cursor };
  /** Props binding an input to one key of the draft. */
  const field = (key: keyof F) => ({
    value: draft[key],
    onInput: (e: Event) => setDraft({ ...draft, [key]: (e.target as HTMLInputElement).value }),
  });
  /** Props binding a select to one key of the draft. */
  const choice = (key: keyof F) => ({
    value: draft[key],
    onChange: (e: Event) => setDraft({ ...draft, [key]: (e.target as HTMLSelectElement).value }),
  });
  /** The form's submit: applies the draft and starts again from the first page. */
  const apply = (e: Event) => {
    e.preventDefault();
    setMore([]);
    setCursor(undefined);
    setApplied(draft);
  };
  /** Applies `filter` at once (a one-click filter), the form showing it too. */
  const applyFilter = (filter: F) => {
    setMore([]);
    setCursor(undefined);
    setDraft(filter);
    setApplied(filter);
  };
  const loadMore = () =>
    graph.request<D>(query, { ...variablesOf(applied), after: next?.endCursor }).then((d) => {
      const page = pick(d);
      setMore([...more, ...page.edges.map((e) => e.node)]);
      setCursor(page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null);
    }, setMoreError);
  return {
    applied,
    field,
    choice,
    apply,
    applyFilter,
    rows,
    next,
    loadMore,
    error,
    moreError,
    loading,
    reload,
  };
}
