import type { Agent, Credential, CredentialWithSecret } from '@mandate/sdk';
import { type SubmitEvent, useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { SecretOnce } from '../components/SecretOnce';
import { EmptyRow, ErrorNote, Loading, PageHeader, Status, Time } from '../components/bits';
import { canWrite, useConsole } from '../context';
import { describeError } from '../errors';
import { useLoad } from '../hooks';
import { Link } from '../router';

type Pending = { kind: 'decommission' } | { kind: 'rotate'; credential: Credential } | { kind: 'revoke'; credential: Credential } | null;

export function AgentDetail({ agentId }: { agentId: string }): React.JSX.Element {
  const { client, principal, orgId } = useConsole();
  const agent = useLoad(() => client.agents.get(agentId), [client, orgId, agentId]);
  const credentials = useLoad(async () => (await client.credentials.list(agentId, { limit: 100 })).data, [client, orgId, agentId]);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const [secret, setSecret] = useState<CredentialWithSecret | null>(null);
  const [label, setLabel] = useState('');
  const writer = canWrite(principal);

  const act = async (work: () => PromiseLike<unknown>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
      setPending(null);
      agent.reload();
      credentials.reload();
    }
  };
  const setStatus = (status: 'active' | 'suspended'): Promise<void> => act(() => client.agents.update(agentId, { status }));
  const createCredential = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void act(async () => {
      setSecret(await client.credentials.create(agentId, label.trim() === '' ? {} : { label: label.trim() }));
      setLabel('');
    });
  };
  const confirm = (): void => {
    if (pending === null) return;
    if (pending.kind === 'decommission') void act(() => client.agents.decommission(agentId));
    if (pending.kind === 'rotate') void act(async () => { setSecret(await client.credentials.rotate(agentId, pending.credential.id)); });
    if (pending.kind === 'revoke') void act(() => client.credentials.revoke(agentId, pending.credential.id));
  };

  if (agent.data === undefined) {
    return (
      <>
        <PageHeader title="Agent" />
        <ErrorNote error={agent.error} />
        {agent.error === undefined ? <Loading what="the agent" /> : <Link to="/agents">Back to agents</Link>}
      </>
    );
  }
  const current: Agent = agent.data;
  const live = current.status !== 'decommissioned';
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/agents">Agents</Link> / <span aria-current="page">{current.name}</span>
      </nav>
      <PageHeader title={current.name}>
        {writer && current.status === 'active' ? (
          <button type="button" onClick={() => void setStatus('suspended')} disabled={busy}>
            Suspend
          </button>
        ) : null}
        {writer && current.status === 'suspended' ? (
          <button type="button" onClick={() => void setStatus('active')} disabled={busy}>
            Resume
          </button>
        ) : null}
        {writer && live ? (
          <button type="button" className="danger" onClick={() => { setPending({ kind: 'decommission' }); }} disabled={busy}>
            Decommission
          </button>
        ) : null}
      </PageHeader>
      <ErrorNote error={error} />
      <dl className="facts" aria-label="Agent details">
        <div>
          <dt>Status</dt>
          <dd data-testid="agent-status">
            <Status value={current.status} />
          </dd>
        </div>
        <div>
          <dt>Id (client id)</dt>
          <dd className="mono">{current.id}</dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>{current.agentType}</dd>
        </div>
        <div>
          <dt>Allowed scopes</dt>
          <dd>{current.allowedScopes.length === 0 ? <span className="muted">none</span> : current.allowedScopes.join(' ')}</dd>
        </div>
        <div>
          <dt>Trust level</dt>
          <dd>{current.trustLevel}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{current.owner ?? <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Description</dt>
          <dd>{current.description ?? <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time value={current.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Suspended</dt>
          <dd>
            <Time value={current.suspendedAt} />
          </dd>
        </div>
      </dl>

      <section aria-labelledby="credentials-title">
        <h2 id="credentials-title">Credentials</h2>
        {secret === null ? null : (
          <SecretOnce
            label="Client secret"
            secret={secret.secret}
            details={[
              { label: 'Client id', value: secret.clientId },
              { label: 'Credential', value: secret.id },
            ]}
            onDone={() => { setSecret(null); }}
          />
        )}
        {writer && live ? (
          <form className="inline-form" onSubmit={createCredential} aria-label="New credential">
            <div className="field grow">
              <label htmlFor="credential-label">Label for a new credential (optional)</label>
              <input id="credential-label" value={label} onChange={(event) => { setLabel(event.target.value); }} />
            </div>
            <button type="submit" className="primary" disabled={busy}>
              Create credential
            </button>
          </form>
        ) : null}
        <ErrorNote error={credentials.error} />
        <div className="table-wrap">
          <table aria-label="Credentials">
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col" className="wide-only">
                  Prefix
                </th>
                <th scope="col">Status</th>
                <th scope="col" className="wide-only">
                  Created
                </th>
                <th scope="col" className="wide-only">
                  Last used
                </th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(credentials.data ?? []).map((credential) => (
                <tr key={credential.id}>
                  <td>{credential.label ?? <span className="muted">—</span>}</td>
                  <td className="mono wide-only">{credential.prefix}…</td>
                  <td>
                    <Status value={credential.status} />
                  </td>
                  <td className="wide-only">
                    <Time value={credential.createdAt} />
                  </td>
                  <td className="wide-only">
                    <Time value={credential.lastUsedAt} />
                  </td>
                  <td className="row-actions">
                    {writer && credential.status === 'active' ? (
                      <>
                        <button type="button" onClick={() => { setPending({ kind: 'rotate', credential }); }} aria-label={`Rotate credential ${credential.label ?? credential.prefix}`}>
                          Rotate
                        </button>
                        <button type="button" className="danger" onClick={() => { setPending({ kind: 'revoke', credential }); }} aria-label={`Revoke credential ${credential.label ?? credential.prefix}`}>
                          Revoke
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
              {credentials.data?.length === 0 ? <EmptyRow columns={6}>No credentials yet.</EmptyRow> : null}
            </tbody>
          </table>
        </div>
      </section>

      <ConfirmDialog
        open={pending?.kind === 'decommission'}
        title={`Decommission ${current.name}?`}
        confirmLabel="Decommission"
        danger
        busy={busy}
        onConfirm={confirm}
        onCancel={() => { setPending(null); }}
      >
        <p>
          The agent&apos;s tokens stop working at once and its credentials are revoked. This is final: a decommissioned agent cannot be
          resumed.
        </p>
      </ConfirmDialog>
      <ConfirmDialog open={pending?.kind === 'rotate'} title="Rotate this credential?" confirmLabel="Rotate" busy={busy} onConfirm={confirm} onCancel={() => { setPending(null); }}>
        <p>A new secret replaces this one, and is shown once. Update the agent with it before the old secret stops working.</p>
      </ConfirmDialog>
      <ConfirmDialog open={pending?.kind === 'revoke'} title="Revoke this credential?" confirmLabel="Revoke" danger busy={busy} onConfirm={confirm} onCancel={() => { setPending(null); }}>
        <p>The secret stops working at once. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
