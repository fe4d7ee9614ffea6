import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { loadConfig, signOut } from './auth.js';
import { session, onSession } from './session.js';
import { useRoute, match, navigate, onLinkClick, href } from './router.js';
import { ErrorBox, Loading, Page, Forbidden } from './ui.jsx';
import { SignIn, Callback } from './screens/signin.jsx';
import { ContactList } from './screens/contacts.jsx';
import { ContactPage } from './screens/contact.jsx';

// Admin screens are separate chunks: an agent never downloads them.
const lazy = {
  reports: () => import('./screens/reports.jsx'),
  activity: () => import('./screens/activity.jsx'),
  settings: () => import('./screens/settings.jsx'),
  log: () => import('./screens/log.jsx'),
};

function Lazy({ load, name, props }) {
  const [mod, setMod] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    load().then(setMod, () => setError(new Error('chunk')));
  }, [load]);
  if (error) return <Page title="Could not load this screen"><ErrorBox error={error} /></Page>;
  if (!mod) return <Loading what="Loading the screen" />;
  const C = mod[name];
  return <C {...props} />;
}

const ROUTES = [
  ['/contacts', () => <ContactList />],
  ['/contacts/:id', (p) => <ContactPage id={p.id} />],
  ['/reports/contact', (p, q) => <Lazy load={lazy.reports} name="Overview" props={{ query: q }} />, true],
  ['/reports/contact/:log', (p, q) => <Lazy load={lazy.reports} name="ReportLog" props={{ log: p.log, query: q }} />, true],
  ['/reports/schedules', (p, q) => <Lazy load={lazy.reports} name="Schedules" props={{ query: q }} />, true],
  ['/manager/activity-logs', (p, q) => <Lazy load={lazy.activity} name="AuditLog" props={{ query: q }} />, true],
  ['/manager/settings', () => <Lazy load={lazy.settings} name="Settings" />, true],
  ['/manager/log-integrity', () => <Lazy load={lazy.log} name="LogIntegrity" />, true],
  ['/manager/activity-logs/sessions/:sessionId', (p, q) => <Lazy load={lazy.activity} name="SessionView" props={{ sessionId: p.sessionId, query: q }} />, true],
];

function Shell({ s, route, children }) {
  const admin = s.role === 'admin';
  const is = (prefix) => (route.path.startsWith(prefix) ? 'page' : undefined);
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href={href('/')}>Contrail</a>
        <nav aria-label="Main">
          <ul>
            {admin && <li><a href={href('/reports/contact')} aria-current={is('/reports')}>Reports › Contact</a></li>}
            <li><a href={href('/contacts')} aria-current={is('/contacts')}>Contacts</a></li>
            {admin && <li><a href={href('/manager/activity-logs')} aria-current={is('/manager/activity-logs')}>Manager › Activity Logs</a></li>}
            {admin && <li><a href={href('/manager/settings')} aria-current={is('/manager/settings')}>Settings</a></li>}
            {admin && <li><a href={href('/manager/log-integrity')} aria-current={is('/manager/log-integrity')}>Log integrity</a></li>}
          </ul>
        </nav>
        <div class="who">
          <span><span class="who-name">{s.name}</span> <span class="badge">{s.role}</span> <span class="muted">tenant {s.tenant}</span></span>
          <button type="button" class="link" onClick={() => { signOut(); navigate('/signin'); }}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
    </div>
  );
}

function App() {
  const route = useRoute();
  const [s, setS] = useState(session);
  const [config, setConfig] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => onSession(() => setS(session())), []);
  useEffect(() => { loadConfig().then(setConfig, setError); }, []);
  if (error) return <main id="main" class="centered"><ErrorBox error={error} onRetry={() => location.reload()} /></main>;
  if (!config) return <Loading what="Starting the console" />;
  if (route.path === '/callback') return <Callback config={config} query={route.query} />;
  if (!s) {
    const returnTo = route.path === '/signin' ? route.query.next || '/' : route.path + route.search;
    return <SignIn config={config} returnTo={returnTo} />;
  }
  if (route.path === '/signin' || route.path === '/') {
    const next = route.query.next && route.query.next !== '/' ? route.query.next : s.role === 'admin' ? '/reports/contact' : '/contacts';
    queueMicrotask(() => navigate(next, { replace: true }));
    return <Loading what="Opening" />;
  }
  for (const [pattern, view, adminOnly] of ROUTES) {
    const p = match(pattern, route.path);
    if (p) {
      // An agent reaching an admin screen by URL: the admin chunk is not loaded; the same page
      // as the API's 403 is shown.
      const body = adminOnly && s.role !== 'admin' ? <Forbidden what="this admin screen" /> : view(p, route.query);
      return <Shell s={s} route={route}>{body}</Shell>;
    }
  }
  return <Shell s={s} route={route}><Page title="Page not found"><p>There is no console page at this address. Go to <a href={href('/contacts')}>Contacts</a>.</p></Page></Shell>;
}

document.addEventListener('click', onLinkClick);
// Preact 11 renders beside existing children: drop the boot message first.
const root = document.getElementById('app');
root.textContent = '';
render(<App />, root);
