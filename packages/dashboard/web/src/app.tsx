/**
 * The app: asks the head whether this browser has a session (`GET /api/session`, public), shows the
 * login page when it has not, else the layout (navigation, logout) and the page the URL's hash names.
 * Any 401 from a page's poll comes back here through AuthContext and shows the login page again.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJson, postJson } from './api.js';
import { AuthContext } from './auth_context.js';
import { useRoute, type Route } from './router.js';
import { Nav } from './components/nav.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { NodesPage } from './pages/nodes.js';
import { NodeDetailPage } from './pages/node_detail.js';
import { JobsPage } from './pages/jobs.js';
import { JobDetailPage } from './pages/job_detail.js';
import { TasksPage } from './pages/tasks.js';
import { TaskDetailPage } from './pages/task_detail.js';
import { ActorsPage } from './pages/actors.js';
import { ActorDetailPage } from './pages/actor_detail.js';
import { PlacementGroupsPage } from './pages/placement_groups.js';
import { ObjectsPage } from './pages/objects.js';
import { LogsPage } from './pages/logs.js';
import { TimelinePage } from './pages/timeline.js';

type SessionState = 'CHECKING' | 'SIGNED_OUT' | 'SIGNED_IN' | 'UNREACHABLE';

function CurrentPage({ route }: { route: Route }) {
  const { page, id } = route;
  switch (page) {
    case '': return <OverviewPage />;
    case 'nodes': return id ? <NodeDetailPage key={id} id={id} /> : <NodesPage />;
    case 'jobs': return id ? <JobDetailPage key={id} id={id} /> : <JobsPage />;
    case 'tasks': return id ? <TaskDetailPage key={id} id={id} /> : <TasksPage />;
    case 'actors': return id ? <ActorDetailPage key={id} id={id} /> : <ActorsPage />;
    case 'placement-groups': return <PlacementGroupsPage />;
    case 'objects': return <ObjectsPage />;
    case 'logs': return <LogsPage key={`${id}-${route.params.get('file')}`} nodeId={id} file={route.params.get('file')} />;
    case 'timeline': return <TimelinePage />;
    default: return <section><h1 id="page-title">Not found</h1><p>There is no page “{page}”. <a href="#/">Go to the overview</a>.</p></section>;
  }
}

export function App() {
  const [session, setSession] = useState<SessionState>('CHECKING');
  const [problem, setProblem] = useState<string>();
  const route = useRoute();
  const check = () => {
    getJson<{ authenticated: boolean }>('/api/session')
      .then((s) => setSession(s.authenticated ? 'SIGNED_IN' : 'SIGNED_OUT'))
      .catch((err: Error) => { setProblem(err.message); setSession('UNREACHABLE'); });
  };
  useEffect(check, []);
  const auth = useMemo(() => ({ signedOut: () => setSession('SIGNED_OUT') }), []);
  const logout = async () => {
    try { await postJson('/api/logout', {}); } catch { /* the cookie may be gone already */ }
    setSession('SIGNED_OUT');
  };

  if (session === 'CHECKING') return <p class="muted">Connecting…</p>;
  if (session === 'UNREACHABLE') {
    return <div class="banner" role="alert">The head's HTTP API did not answer: {problem}. <button type="button" onClick={check}>Try again</button></div>;
  }
  if (session === 'SIGNED_OUT') return <LoginPage onLoggedIn={() => setSession('SIGNED_IN')} />;
  return (
    <AuthContext.Provider value={auth}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">rayts</span>
        <Nav current={route.page} />
        <button type="button" class="logout" onClick={logout}>Log out</button>
      </header>
      <main id="main" tabIndex={-1}><CurrentPage route={route} /></main>
    </AuthContext.Provider>
  );
}
