import type { WebhookDelivery, WebhookDeliveryAttemptsItem, WebhookWithSecret } from '@mandate/sdk';
import { type SubmitEvent, useState } from 'react';
import { SecretOnce } from '../components/SecretOnce';
import { EmptyRow, ErrorNote, FormActions, Loading, PageHeader, Status, Time } from '../components/bits';
import { canWrite, useConsole } from '../context';
import { describeError } from '../errors';
import { useLoad } from '../hooks';
import { Link } from '../router';

export function Webhooks(): React.JSX.Element {
  const { client, principal, orgId } = useConsole();
  const hooks = useLoad(async () => (await client.webhooks.list({ limit: 100 })).data, [client, orgId]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  return (
    <>
      <PageHeader title="Webhooks">
        {canWrite(principal) ? (
          <button type="button" className="primary" onClick={() => { setCreating((value) => !value); }} aria-expanded={creating} aria-controls="new-webhook">
            New webhook
          </button>
        ) : null}
      </PageHeader>
      {created === null ? null : (
        <SecretOnce label="Signing secret" secret={created.secret} details={[{ label: 'Webhook', value: created.id }]} onDone={() => { setCreated(null); }} />
      )}
      {creating ? (
        <NewWebhook
          onCreated={(webhook) => {
            setCreating(false);
            setCreated(webhook);
            hooks.reload();
          }}
          onCancel={() => { setCreating(false); }}
        />
      ) : null}
      <ErrorNote error={hooks.error} />
      {hooks.data === undefined ? (
        hooks.error === undefined ? <Loading what="webhooks" /> : null
      ) : (
        <div className="table-wrap">
          <table aria-label="Webhooks">
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">State</th>
                <th scope="col" className="wide-only">
                  Events
                </th>
                <th scope="col" className="wide-only">
                  Failing since
                </th>
              </tr>
            </thead>
            <tbody>
              {hooks.data.map((hook) => (
                <tr key={hook.id}>
                  <td>
                    <Link to={`/webhooks/${hook.id}`}>{hook.url}</Link>
                    {hook.description === null ? null : <div className="muted small">{hook.description}</div>}
                  </td>
                  <td>
                    <Status value={hook.enabled ? 'enabled' : (hook.disabledReason ?? 'disabled')} />
                  </td>
                  <td className="wide-only mono small">{hook.events.length === 0 ? 'every action' : hook.events.join(' ')}</td>
                  <td className="wide-only">
                    <Time value={hook.failingSince} />
                  </td>
                </tr>
              ))}
              {hooks.data.length === 0 ? <EmptyRow columns={4}>No webhooks yet.</EmptyRow> : null}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function NewWebhook({ onCreated, onCancel }: { onCreated: (webhook: WebhookWithSecret) => void; onCancel: () => void }): React.JSX.Element {
  const { client } = useConsole();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onCreated(
        await client.webhooks.create({
          url: url.trim(),
          events: events.split(/[\s,]+/).filter(Boolean),
          ...(description.trim() === '' ? {} : { description: description.trim() }),
        }),
      );
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  };
  return (
    <form id="new-webhook" className="card form-grid" aria-labelledby="new-webhook-title" onSubmit={(event) => void submit(event)}>
      <h2 id="new-webhook-title">New webhook</h2>
      <div className="field span">
        <label htmlFor="webhook-url">Endpoint URL</label>
        <input id="webhook-url" type="url" required placeholder="https://hooks.example.com/mandate" value={url} onChange={(event) => { setUrl(event.target.value); }} autoFocus />
      </div>
      <div className="field">
        <label htmlFor="webhook-events">Actions (optional)</label>
        <input id="webhook-events" value={events} onChange={(event) => { setEvents(event.target.value); }} aria-describedby="webhook-events-hint" placeholder="agent.suspended credential.*" />
        <p id="webhook-events-hint" className="hint">
          Separated by spaces; empty means every action.
        </p>
      </div>
      <div className="field">
        <label htmlFor="webhook-description">Description (optional)</label>
        <input id="webhook-description" value={description} onChange={(event) => { setDescription(event.target.value); }} />
      </div>
      <ErrorNote error={error} />
      <FormActions busy={busy} label="Create webhook" onCancel={onCancel} />
    </form>
  );
}

export function WebhookDetail({ webhookId }: { webhookId: string }): React.JSX.Element {
  const { client, principal, orgId } = useConsole();
  const hook = useLoad(() => client.webhooks.get(webhookId), [client, orgId, webhookId]);
  const deliveries = useLoad(async () => (await client.webhooks.listDeliveries(webhookId, { limit: 100 })).data, [client, orgId, webhookId]);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | null>(null);
  const writer = canWrite(principal);
  const run = async (key: string, work: () => PromiseLike<WebhookDelivery>, done: string): Promise<void> => {
    setBusy(key);
    setError(undefined);
    setNotice(undefined);
    try {
      const delivery = await work();
      setNotice(`${done} Delivery ${delivery.id} is ${delivery.status}.`);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(null);
      deliveries.reload();
    }
  };
  const title = hook.data?.url ?? 'Webhook';
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/webhooks">Webhooks</Link> / <span aria-current="page">{webhookId}</span>
      </nav>
      <PageHeader title={title}>
        {writer ? (
          <button type="button" onClick={() => void run('test', () => client.webhooks.test(webhookId), 'Test event sent.')} disabled={busy !== null}>
            Send a test event
          </button>
        ) : null}
        <button type="button" onClick={() => { deliveries.reload(); }}>
          Refresh
        </button>
      </PageHeader>
      <ErrorNote error={hook.error ?? deliveries.error ?? error} />
      {notice === undefined ? null : (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <h2>Deliveries</h2>
      {deliveries.data === undefined ? (
        deliveries.error === undefined ? <Loading what="deliveries" /> : null
      ) : (
        <div className="table-wrap">
          <table aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col" className="wide-only">
                  Attempts
                </th>
                <th scope="col" className="wide-only">
                  Last answer
                </th>
                <th scope="col" className="wide-only">
                  Created
                </th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.map((delivery) => {
                const lastAttempt = delivery.attempts[delivery.attempts.length - 1];
                return (
                  <tr key={delivery.id}>
                    <td className="mono">{delivery.action}</td>
                    <td>
                      <Status value={delivery.status} />
                    </td>
                    <td className="wide-only">{delivery.attemptCount}</td>
                    <td className="wide-only small">{lastAttempt === undefined ? '—' : describeAttempt(lastAttempt)}</td>
                    <td className="wide-only">
                      <Time value={delivery.createdAt} />
                    </td>
                    <td className="row-actions">
                      {writer && delivery.status === 'failed' ? (
                        <button
                          type="button"
                          onClick={() => void run(delivery.id, () => client.webhooks.retryDelivery(webhookId, delivery.id), 'Retry queued.')}
                          disabled={busy !== null}
                          aria-label={`Retry delivery of ${delivery.action} ${delivery.id}`}
                        >
                          {busy === delivery.id ? 'Retrying…' : 'Retry'}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
              {deliveries.data.length === 0 ? <EmptyRow columns={6}>No deliveries yet.</EmptyRow> : null}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function describeAttempt(attempt: WebhookDeliveryAttemptsItem): string {
  if (attempt.status !== null) return `HTTP ${attempt.status} in ${attempt.latencyMs} ms`;
  return attempt.error ?? 'no answer';
}
