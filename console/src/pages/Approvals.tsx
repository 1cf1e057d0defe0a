import type { Approval, ListApprovalsParamsStatus } from '@mandate/sdk';
import { useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorNote, Loading, PageHeader, Status, Time } from '../components/bits';
import { canWrite, useConsole } from '../context';
import { describeError } from '../errors';
import { useEventStream, useLoad } from '../hooks';

const STATUSES: ListApprovalsParamsStatus[] = ['pending', 'approved', 'denied', 'expired'];
/** Every approval action (requested, approved, denied, impersonation): any of them changes the queue. */
const APPROVAL_EVENTS = { action: ['approval.*'] };

export function Approvals(): React.JSX.Element {
  const { client, principal, orgId } = useConsole();
  const [status, setStatus] = useState<ListApprovalsParamsStatus>('pending');
  const queue = useLoad(async () => (await client.approvals.list({ status, limit: 100 })).data, [client, orgId, status]);
  // The event stream is the trigger: on each approval event (and on every reconnect, to cover
  // a gap) the queue is read again through the list operation.
  const stream = useEventStream(APPROVAL_EVENTS, { onEvent: queue.reload, onConnect: queue.reload });
  const [denying, setDenying] = useState<Approval | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const writer = canWrite(principal);

  const decide = async (approval: Approval, decision: 'approve' | 'deny'): Promise<void> => {
    setBusy(approval.id);
    setError(undefined);
    try {
      if (decision === 'approve') await client.approvals.approve(approval.id, {});
      else await client.approvals.deny(approval.id, reason.trim() === '' ? {} : { reason: reason.trim() });
      setNotice(`${decision === 'approve' ? 'Approved' : 'Denied'} ${approval.name} (${approval.userCode}).`);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(null);
      setDenying(null);
      setReason('');
      queue.reload();
    }
  };

  return (
    <>
      <PageHeader title="Approvals">
        <span className={`badge stream-${stream.status}`} data-testid="approvals-live">
          {stream.status === 'live' ? 'Updating live' : stream.status === 'failed' ? 'Not updating' : 'Connecting…'}
        </span>
      </PageHeader>
      <p className="muted">Agents that asked to be let in (device authorization). Check the code the agent shows before you approve.</p>
      <div className="filters">
        <div className="field">
          <label htmlFor="approval-status">Show</label>
          <select id="approval-status" value={status} onChange={(event) => { setStatus(event.target.value); }}>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNote error={error ?? queue.error ?? stream.error} />
      {notice === undefined ? null : (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {queue.data === undefined ? (
        queue.error === undefined ? <Loading what="approvals" /> : null
      ) : queue.data.length === 0 ? (
        <p className="muted" data-testid="approvals-empty">
          No {status} requests.
        </p>
      ) : (
        <ul className="cards" aria-label={`${status} requests`}>
          {queue.data.map((approval) => (
            <li key={approval.id} className="card" aria-labelledby={`approval-${approval.id}`} data-testid="approval">
              <div className="page-header">
                <h2 id={`approval-${approval.id}`}>
                  {approval.name} <span className="mono code">{approval.userCode}</span>
                </h2>
                <Status value={approval.status} />
              </div>
              {approval.impersonationSuspected ? (
                <p className="error" role="note">
                  Possible impersonation: {approval.impersonationReason ?? 'the name and key do not belong together'}.
                </p>
              ) : null}
              <dl className="facts compact">
                <div>
                  <dt>Kind</dt>
                  <dd>{approval.kind}</dd>
                </div>
                <div>
                  <dt>Scopes asked for</dt>
                  <dd className="mono">{approval.requestedScopes.join(' ') || '—'}</dd>
                </div>
                <div>
                  <dt>Agent</dt>
                  <dd className="mono">{approval.agentId ?? 'new'}</dd>
                </div>
                <div>
                  <dt>From</dt>
                  <dd>{approval.ip ?? '—'}</dd>
                </div>
                <div>
                  <dt>Asked</dt>
                  <dd>
                    <Time value={approval.createdAt} />
                  </dd>
                </div>
                <div>
                  <dt>{approval.status === 'pending' ? 'Expires' : 'Decided'}</dt>
                  <dd>
                    <Time value={approval.status === 'pending' ? approval.expiresAt : approval.decidedAt} />
                  </dd>
                </div>
              </dl>
              {writer && approval.status === 'pending' ? (
                <div className="actions">
                  <button type="button" className="primary" disabled={busy !== null} onClick={() => void decide(approval, 'approve')} aria-label={`Approve ${approval.name} (${approval.userCode})`}>
                    {busy === approval.id ? 'Approving…' : 'Approve'}
                  </button>
                  <button type="button" className="danger" disabled={busy !== null} onClick={() => { setDenying(approval); }} aria-label={`Deny ${approval.name} (${approval.userCode})`}>
                    Deny
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={denying !== null}
        title={`Deny ${denying?.name ?? 'this request'}?`}
        confirmLabel="Deny"
        danger
        busy={busy !== null}
        onConfirm={() => {
          if (denying !== null) void decide(denying, 'deny');
        }}
        onCancel={() => {
          setDenying(null);
          setReason('');
        }}
      >
        <p>The agent is told no. The reason is kept on the request and its audit event, not shown to the agent.</p>
        <label htmlFor="deny-reason">Reason (optional)</label>
        <input id="deny-reason" value={reason} onChange={(event) => { setReason(event.target.value); }} />
      </ConfirmDialog>
    </>
  );
}
