import type { Organization } from '@mandate/sdk';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { consoleClient } from './client';
import { ErrorNote, Loading } from './components/bits';
import { ConsoleContext, type ConsoleState, useConsole } from './context';
import { useLoad } from './hooks';
import { AgentDetail } from './pages/AgentDetail';
import { Agents } from './pages/Agents';
import { Approvals } from './pages/Approvals';
import { Audit } from './pages/Audit';
import { Orgs } from './pages/Orgs';
import { SignIn } from './pages/SignIn';
import { SigningKeys } from './pages/SigningKeys';
import { WebhookDetail, Webhooks } from './pages/Webhooks';
import { Link, RouterProvider, match, navigate, useRoute } from './router';
import { type Session, currentSession, signOut } from './session';

// The organization an instance administrator works in, remembered per signed-in token (by its
// id) so that a reload or a link opened in a new tab stays in it. An organization id is no
// secret; no token is ever stored.
const ORG_KEY = 'mandate.console.organization';

function rememberedOrg(principalId: string): string | null {
  try {
    const saved = JSON.parse(localStorage.getItem(ORG_KEY) ?? 'null') as { principalId?: unknown; orgId?: unknown } | null;
    return saved?.principalId === principalId && typeof saved.orgId === 'string' ? saved.orgId : null;
  } catch {
    return null;
  }
}

function rememberOrg(principalId: string, orgId: string | null): void {
  if (orgId === null) localStorage.removeItem(ORG_KEY);
  else localStorage.setItem(ORG_KEY, JSON.stringify({ principalId, orgId }));
}

type Phase = { kind: 'checking' } | { kind: 'signedOut'; notice?: string } | { kind: 'signedIn'; session: Session } | { kind: 'failed'; error: string };

export function App(): React.JSX.Element {
  return (
    <RouterProvider>
      <SessionGate />
    </RouterProvider>
  );
}

function SessionGate(): React.JSX.Element {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  useEffect(() => {
    currentSession().then(
      (session) => {
        setPhase(session === null ? { kind: 'signedOut' } : { kind: 'signedIn', session });
      },
      (error: unknown) => {
        setPhase({ kind: 'failed', error: error instanceof Error ? error.message : 'The session could not be checked.' });
      },
    );
  }, []);
  const ended = useCallback(() => {
    setPhase((current) => (current.kind === 'signedIn' ? { kind: 'signedOut', notice: 'Your session ended. Sign in again.' } : current));
  }, []);
  if (phase.kind === 'checking') return <Loading what="the console" />;
  if (phase.kind === 'failed') return <ErrorNote error={phase.error} />;
  if (phase.kind === 'signedOut') {
    return <SignIn notice={phase.notice} onSignedIn={(session) => { setPhase({ kind: 'signedIn', session }); }} />;
  }
  return <Console session={phase.session} onSessionEnded={ended} onSignedOut={() => { setPhase({ kind: 'signedOut', notice: 'Signed out.' }); }} />;
}

function Console({ session, onSessionEnded, onSignedOut }: { session: Session; onSessionEnded: () => void; onSignedOut: () => void }): React.JSX.Element {
  const { principal, csrfToken } = session;
  const [picked, setPicked] = useState<string | null>(() => (principal.orgId === null ? rememberedOrg(principal.id) : null));
  const orgId = principal.orgId ?? picked;
  const client = useMemo(() => consoleClient(csrfToken, principal.orgId === null ? (orgId ?? undefined) : undefined, onSessionEnded), [csrfToken, principal.orgId, orgId, onSessionEnded]);
  const chooseOrg = useCallback(
    (id: string | null) => {
      rememberOrg(principal.id, id);
      setPicked(id);
    },
    [principal.id],
  );
  const state: ConsoleState = useMemo(() => ({ client, principal, orgId, chooseOrg }), [client, principal, orgId, chooseOrg]);
  const leave = async (): Promise<void> => {
    try {
      await signOut(csrfToken);
    } finally {
      rememberOrg(principal.id, null);
      onSignedOut();
    }
  };
  return (
    <ConsoleContext.Provider value={state}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Mandate
        </Link>
        <OrgPicker />
        <div className="who">
          <span className="muted small" title={principal.id}>
            {principal.role}
            {principal.orgId === null ? ' (instance)' : ''}
          </span>
          <button type="button" onClick={() => void leave()}>
            Sign out
          </button>
        </div>
      </header>
      <Navigation />
      <main id="main" tabIndex={-1}>
        <Pages />
      </main>
    </ConsoleContext.Provider>
  );
}

const SECTIONS = [
  { to: '/agents', label: 'Agents', needsOrg: true },
  { to: '/approvals', label: 'Approvals', needsOrg: true },
  { to: '/audit', label: 'Audit log', needsOrg: true },
  { to: '/webhooks', label: 'Webhooks', needsOrg: true },
  { to: '/keys', label: 'Signing keys', needsOrg: false },
  { to: '/orgs', label: 'Organizations', needsOrg: false },
];

function Navigation(): React.JSX.Element {
  const { path } = useRoute();
  return (
    <nav aria-label="Sections" className="sections">
      <ul>
        {SECTIONS.map((section) => {
          const current = path === section.to || path.startsWith(`${section.to}/`);
          return (
            <li key={section.to}>
              <Link to={section.to} aria-current={current ? 'page' : undefined}>
                {section.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function OrgPicker(): React.JSX.Element | null {
  const { client, principal, orgId, chooseOrg } = useConsole();
  const orgs = useLoad<Organization[]>(async () => (principal.orgId === null ? (await client.orgs.list({ limit: 100 })).data : []), [client, principal.orgId]);
  if (principal.orgId !== null) return null;
  return (
    <div className="org-picker">
      <label htmlFor="org-picker">Organization</label>
      <select id="org-picker" value={orgId ?? ''} onChange={(event) => { chooseOrg(event.target.value === '' ? null : event.target.value); }}>
        <option value="">Choose…</option>
        {(orgs.data ?? []).map((org) => (
          <option key={org.id} value={org.id}>
            {org.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function Pages(): React.JSX.Element {
  const { path } = useRoute();
  const { orgId } = useConsole();
  // Focus moves to the new page's heading, so keyboard and screen-reader users start there.
  useEffect(() => {
    const heading = document.querySelector<HTMLElement>('[data-page-title]');
    heading?.focus({ preventScroll: true });
  }, [path]);
  useEffect(() => {
    if (path === '/') navigate(orgId === null ? '/orgs' : '/agents', { replace: true });
  }, [path, orgId]);
  const section = SECTIONS.find((candidate) => path === candidate.to || path.startsWith(`${candidate.to}/`));
  if (section?.needsOrg === true && orgId === null) {
    return (
      <>
        <h1 tabIndex={-1} data-page-title>
          {section.label}
        </h1>
        <p>
          Choose an organization first: <Link to="/orgs">Organizations</Link>.
        </p>
      </>
    );
  }
  // Keyed by organization: switching it starts every page afresh.
  const key = orgId ?? 'none';
  const agent = match('/agents/:id', path);
  if (agent !== null) return <AgentDetail key={`${key}:${agent.id}`} agentId={agent.id ?? ''} />;
  const webhook = match('/webhooks/:id', path);
  if (webhook !== null) return <WebhookDetail key={`${key}:${webhook.id}`} webhookId={webhook.id ?? ''} />;
  switch (path) {
    case '/':
      return <Loading what="the console" />;
    case '/agents':
      return <Agents key={key} />;
    case '/approvals':
      return <Approvals key={key} />;
    case '/audit':
      return <Audit key={key} />;
    case '/webhooks':
      return <Webhooks key={key} />;
    case '/keys':
      return <SigningKeys />;
    case '/orgs':
      return <Orgs />;
    default:
      return (
        <>
          <h1 tabIndex={-1} data-page-title>
            Not found
          </h1>
          <p>
            Nothing here. <Link to="/agents">Go to the agents</Link>.
          </p>
        </>
      );
  }
}
