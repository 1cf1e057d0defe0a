import type { AuditChainVerification, AuditEvent, ListAuditEventsParams, Page } from '@mandate/sdk';
import { type SubmitEvent, useState } from 'react';
import { EmptyRow, ErrorNote, Loading, PageHeader, Status, Time } from '../components/bits';
import { useConsole } from '../context';
import { describeError } from '../errors';
import { type StreamStatus, useEventStream, useLoad } from '../hooks';

const TAIL_LENGTH = 100;
const OUTCOMES = ['success', 'failure'] as const;

interface Filters {
  action: string;
  outcome: string;
  agentId: string;
  since: string;
  until: string;
}

const NO_FILTERS: Filters = { action: '', outcome: '', agentId: '', since: '', until: '' };

/** The form's values as the list operation's parameters; datetime-local fields are local time. */
function toParams(filters: Filters): ListAuditEventsParams {
  const params: ListAuditEventsParams = { limit: 50 };
  if (filters.action.trim() !== '') params.action = filters.action.trim();
  if (filters.outcome !== '') params.outcome = filters.outcome;
  if (filters.agentId.trim() !== '') params.agentId = filters.agentId.trim();
  if (filters.since !== '') params.since = new Date(filters.since).toISOString();
  if (filters.until !== '') params.until = new Date(filters.until).toISOString();
  return params;
}

export function Audit(): React.JSX.Element {
  const { client, orgId } = useConsole();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [more, setMore] = useState<{ items: AuditEvent[]; page: Page<AuditEvent> | null }>({ items: [], page: null });
  const [error, setError] = useState<string | undefined>();
  const list = useLoad(async () => {
    const page = await client.auditEvents.list(toParams(filters));
    setMore({ items: [], page: null });
    return page;
  }, [client, orgId, filters]);
  const last = more.page ?? list.data;
  const events = [...(list.data?.data ?? []), ...more.items];

  const apply = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setFilters(draft);
  };
  const loadMore = async (): Promise<void> => {
    if (last === undefined || !last.hasNextPage()) return;
    try {
      const next = await last.getNextPage();
      setMore((previous) => ({ items: [...previous.items, ...next.data], page: next }));
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onChange: (event: { target: { value: string } }) => {
      setDraft((previous) => ({ ...previous, [name]: event.target.value }));
    },
  });

  return (
    <>
      <PageHeader title="Audit log" />
      <ChainVerification />
      <LiveTail />
      <section aria-labelledby="audit-history-title">
        <h2 id="audit-history-title">History</h2>
        <form className="filters" role="search" aria-label="Filter audit events" onSubmit={apply}>
          <div className="field">
            <label htmlFor="audit-action">Action</label>
            <input id="audit-action" placeholder="agent.suspended" {...field('action')} />
          </div>
          <div className="field">
            <label htmlFor="audit-outcome">Outcome</label>
            <select id="audit-outcome" {...field('outcome')}>
              <option value="">Any</option>
              {OUTCOMES.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="audit-agent">Agent id</label>
            <input id="audit-agent" placeholder="agt_…" {...field('agentId')} />
          </div>
          <div className="field">
            <label htmlFor="audit-since">Since</label>
            <input id="audit-since" type="datetime-local" {...field('since')} />
          </div>
          <div className="field">
            <label htmlFor="audit-until">Until</label>
            <input id="audit-until" type="datetime-local" {...field('until')} />
          </div>
          <button type="submit">Apply</button>
          <button
            type="button"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
            }}
          >
            Clear
          </button>
        </form>
        <ErrorNote error={list.error ?? error} />
        {list.data === undefined && list.error === undefined ? <Loading what="audit events" /> : <EventTable events={events} label="Audit events" />}
        {last?.hasNextPage() === true ? (
          <button type="button" onClick={() => void loadMore()}>
            Load more
          </button>
        ) : null}
      </section>
    </>
  );
}

function ChainVerification(): React.JSX.Element {
  const { client, orgId } = useConsole();
  const [result, setResult] = useState<{ orgId: string | null; verification: AuditChainVerification } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const verify = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      setResult({ orgId, verification: await client.auditEvents.verify() });
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  const shown = result?.orgId === orgId ? result.verification : undefined;
  return (
    <section aria-labelledby="chain-title" className="card">
      <div className="page-header">
        <h2 id="chain-title">Hash chain</h2>
        <button type="button" onClick={() => void verify()} disabled={busy}>
          {busy ? 'Verifying…' : 'Verify the chain'}
        </button>
      </div>
      <ErrorNote error={error} />
      <div role="status" data-testid="chain-result">
        {shown === undefined ? (
          <p className="muted">Recomputes every event&apos;s hash and link, from the first to the last.</p>
        ) : shown.intact ? (
          <p className="ok">
            Intact: {shown.eventsChecked} events checked, up to <span className="mono">{shown.lastVerifiedEventId ?? 'none'}</span> (
            <Time value={shown.verifiedAt} />
            ).
          </p>
        ) : (
          <p className="error">
            Broken at <span className="mono">{shown.firstBrokenEventId}</span>: {shown.reason}. {shown.eventsChecked} events checked.
          </p>
        )}
      </div>
    </section>
  );
}

const STATUS_TEXT: Record<StreamStatus, string> = { off: 'Paused', connecting: 'Connecting…', live: 'Live', failed: 'Disconnected' };

function LiveTail(): React.JSX.Element {
  const [enabled, setEnabled] = useState(true);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const stream = useEventStream(
    {},
    {
      onEvent: (event) => {
        setEvents((previous) => [event, ...previous.filter((known) => known.id !== event.id)].slice(0, TAIL_LENGTH));
      },
    },
    enabled,
  );
  return (
    <section aria-labelledby="tail-title" className="card">
      <div className="page-header">
        <h2 id="tail-title">Live tail</h2>
        <div className="actions">
          <span className={`badge stream-${stream.status}`} data-testid="tail-status">
            {STATUS_TEXT[stream.status]}
          </span>
          <button type="button" aria-pressed={!enabled} onClick={() => { setEnabled((value) => !value); }}>
            {enabled ? 'Pause' : 'Resume'}
          </button>
        </div>
      </div>
      <ErrorNote error={stream.error} />
      {events.length === 0 ? <p className="muted">Events appear here as they are written.</p> : null}
      <ol className="tail" aria-live="polite" aria-relevant="additions" aria-label="Events as they happen" data-testid="tail">
        {events.map((event) => (
          <li key={event.id}>
            <Time value={event.occurredAt} /> <strong>{event.action}</strong> <Status value={event.outcome} /> <Who event={event} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function Who({ event }: { event: AuditEvent }): React.JSX.Element {
  const actor = `${event.actor.type}${event.actor.id === null ? '' : ` ${event.actor.id}`}`;
  return (
    <span className="muted small">
      by <span className="mono">{actor}</span>
      {event.target === null ? null : (
        <>
          {' '}
          on <span className="mono">{`${event.target.type} ${event.target.id}`}</span>
        </>
      )}
    </span>
  );
}

function EventTable({ events, label }: { events: AuditEvent[]; label: string }): React.JSX.Element {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Outcome</th>
            <th scope="col" className="wide-only">
              Actor
            </th>
            <th scope="col" className="wide-only">
              Target
            </th>
            <th scope="col" className="wide-only">
              Seq.
            </th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td>
                <Time value={event.occurredAt} />
              </td>
              <td className="mono">{event.action}</td>
              <td>
                <Status value={event.outcome} />
              </td>
              <td className="wide-only mono small">{`${event.actor.type} ${event.actor.id ?? ''}`}</td>
              <td className="wide-only mono small">{event.target === null ? '—' : `${event.target.type} ${event.target.id}`}</td>
              <td className="wide-only">{event.sequence}</td>
            </tr>
          ))}
          {events.length === 0 ? <EmptyRow columns={6}>No events match.</EmptyRow> : null}
        </tbody>
      </table>
    </div>
  );
}
