// The console shell: sign-in, navigation, the kill switch (button and banner on every page), pages.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { graphClient } from './api/graphql.ts';
import { resumeEntraSession } from './auth/entra.ts';
import { resumeDevSession, type Session, type SignInConfig } from './auth/session.ts';
import { ApprovalsPage } from './pages/approvals.tsx';
import { AuditPage } from './pages/audit.tsx';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { GenerationPage, GenerationsPage } from './pages/generations.tsx';
import { KnowledgePage } from './pages/knowledge.tsx';
import { TaskPage, TasksPage } from './pages/tasks.tsx';
import { TracePage, TracesPage } from './pages/traces.tsx';
import { UsagePage } from './pages/usage.tsx';
import { PAGES, routeOf } from './routes.ts';
import { SignIn } from './sign-in.tsx';
import { ErrorNote } from './ui/common.tsx';
import { Console } from './ui/context.ts';
import { KillSwitchBanner, KillSwitchButton, useKillSwitch } from './ui/kill-switch.tsx';

/** Loads the sign-in settings and any session this tab already has, then shows sign-in or the console. */
export function App() {
  const [config, setConfig] = useState<SignInConfig>();
  const [session, setSession] = useState<Session | null>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    (async () => {
      const response = await fetch('/console/config.json');
      if (!response.ok)
        throw new Error(`the gateway answered HTTP ${response.status} for the console settings`);
      const loaded = (await response.json()) as SignInConfig;
      setConfig(loaded);
      const resumed =
        (loaded.entra && (await resumeEntraSession(loaded.entra))) ||
        (loaded.dev && (await resumeDevSession()));
      setSession(resumed || null);
    })().catch(setError);
  }, []);
  if (error !== undefined)
    return (
      <main id="main">
        <h1>The console could not start</h1>
        <ErrorNote error={error} retry={() => location.reload()} />
      </main>
    );
  if (!config || session === undefined) return <p class="loading">Loading…</p>;
  if (!session) return <SignIn config={config} onSignedIn={setSession} />;
  return <Shell session={session} onSignOut={() => session.signOut().then(() => setSession(null))} />;
}

function Shell({ session, onSignOut }: { session: Session; onSignOut(): void }) {
  const graph = useMemo(() => graphClient('/graphql', () => session.token()), [session]);
  useEffect(() => () => graph.close(), [graph]);
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = (to: string) => {
    history.pushState(null, '', to);
    setPath(to);
    document.getElementById('main')?.focus();
  };
  const route = routeOf(path);
  useEffect(() => {
    document.title = `${PAGES.find((p) => p.key === route.page)?.label ?? 'Console'} · WidgeTDC`;
  }, [route.page]);
  const context = useMemo(() => ({ session, graph, navigate }), [session, graph]);
  return (
    <Console.Provider value={context}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">WidgeTDC console</span>
        <nav aria-label="pages">
          {PAGES.map((p) => (
            <a
              href={p.path}
              aria-current={route.page === p.key ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(p.path);
              }}
            >
              {p.label}
            </a>
          ))}
        </nav>
        <KillSwitchArea />
        <span class="who" data-testid="who">
          {session.claims.name} · {session.claims.tenantSlug ?? session.claims.tid} ·{' '}
          {session.claims.roles.join(', ') || 'no roles'}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <BannerArea />
      <main id="main" tabIndex={-1}>
        {route.page === 'approvals' && <ApprovalsPage />}
        {route.page === 'tasks' && <TasksPage />}
        {route.page === 'task' && <TaskPage id={route.id!} />}
        {route.page === 'knowledge' && <KnowledgePage />}
        {route.page === 'traces' && <TracesPage />}
        {route.page === 'trace' && <TracePage id={route.id!} />}
        {route.page === 'usage' && <UsagePage />}
        {route.page === 'generations' && <GenerationsPage key={path} />}
        {route.page === 'generation' && <GenerationPage key={route.id} id={route.id!} />}
        {route.page === 'audit' && <AuditPage />}
        {route.page === 'dead-letters' && <DeadLettersPage />}
      </main>
    </Console.Provider>
  );
}

// Two readers of the same state; each keeps its own live subscription (one WebSocket carries both).
function KillSwitchArea() {
  const { data, reload } = useKillSwitch();
  return <KillSwitchButton state={data?.killSwitch} onEngaged={reload} />;
}
function BannerArea() {
  const { data, reload } = useKillSwitch();
  return <KillSwitchBanner state={data?.killSwitch} onReleased={reload} />;
}
