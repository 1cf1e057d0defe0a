import type { Agent, AgentStatus, AgentType, Page } from '@mandate/sdk';
import { type SubmitEvent, useState } from 'react';
import { EmptyRow, ErrorNote, FormActions, Loading, PageHeader, Status, Time } from '../components/bits';
import { canWrite, useConsole } from '../context';
import { describeError } from '../errors';
import { useLoad } from '../hooks';
import { Link, navigate } from '../router';

const STATUSES: AgentStatus[] = ['active', 'suspended', 'decommissioned'];
const TYPES: AgentType[] = ['autonomous', 'assistant', 'workflow', 'tool', 'other'];
const PAGE_SIZE = 50;

export function Agents(): React.JSX.Element {
  const { client, principal, orgId } = useConsole();
  const [status, setStatus] = useState<AgentStatus | ''>('');
  const [query, setQuery] = useState('');
  const [applied, setApplied] = useState('');
  const [more, setMore] = useState<{ items: Agent[]; page: Page<Agent> | null }>({ items: [], page: null });
  const [moreError, setMoreError] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const list = useLoad(async () => {
    const page = await client.agents.list({ limit: PAGE_SIZE, ...(status === '' ? {} : { status }), ...(applied === '' ? {} : { q: applied }) });
    setMore({ items: [], page });
    return page;
  }, [client, orgId, status, applied]);
  const agents = [...(list.data?.data ?? []), ...more.items];
  const last = more.page ?? list.data;
  const loadMore = async (): Promise<void> => {
    if (last === undefined || !last.hasNextPage()) return;
    try {
      const next = await last.getNextPage();
      setMore((previous) => ({ items: [...previous.items, ...next.data], page: next }));
    } catch (failure) {
      setMoreError(describeError(failure));
    }
  };
  const search = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setApplied(query.trim());
  };
  return (
    <>
      <PageHeader title="Agents">
        {canWrite(principal) ? (
          <button type="button" className="primary" onClick={() => { setCreating((value) => !value); }} aria-expanded={creating} aria-controls="new-agent">
            New agent
          </button>
        ) : null}
      </PageHeader>
      {creating ? <NewAgent onCancel={() => { setCreating(false); }} /> : null}
      <form className="filters" role="search" aria-label="Filter agents" onSubmit={search}>
        <div className="field">
          <label htmlFor="agent-status">Status</label>
          <select id="agent-status" value={status} onChange={(event) => { setStatus(event.target.value); }}>
            <option value="">Any</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="agent-query">Name contains</label>
          <input id="agent-query" type="search" value={query} onChange={(event) => { setQuery(event.target.value); }} />
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={list.error} />
      {list.loading && list.data === undefined ? (
        <Loading what="agents" />
      ) : (
        <div className="table-wrap">
          <table aria-label="Agents" aria-busy={list.loading}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="wide-only">
                  Type
                </th>
                <th scope="col" className="wide-only">
                  Owner
                </th>
                <th scope="col" className="wide-only">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {agents.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    <Link to={`/agents/${agent.id}`}>{agent.name}</Link>
                    <div className="muted small mono">{agent.id}</div>
                  </td>
                  <td>
                    <Status value={agent.status} />
                  </td>
                  <td className="wide-only">{agent.agentType}</td>
                  <td className="wide-only">{agent.owner ?? <span className="muted">—</span>}</td>
                  <td className="wide-only">
                    <Time value={agent.createdAt} />
                  </td>
                </tr>
              ))}
              {agents.length === 0 ? <EmptyRow columns={5}>No agents match.</EmptyRow> : null}
            </tbody>
          </table>
        </div>
      )}
      <ErrorNote error={moreError} />
      {last?.hasNextPage() === true ? (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      ) : null}
    </>
  );
}

function NewAgent({ onCancel }: { onCancel: () => void }): React.JSX.Element {
  const { client } = useConsole();
  const [name, setName] = useState('');
  const [agentType, setAgentType] = useState<AgentType>('autonomous');
  const [scopes, setScopes] = useState('');
  const [owner, setOwner] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const agent = await client.agents.create({
        name: name.trim(),
        agentType,
        allowedScopes: scopes.split(/[\s,]+/).filter(Boolean),
        ...(owner.trim() === '' ? {} : { owner: owner.trim() }),
        ...(description.trim() === '' ? {} : { description: description.trim() }),
      });
      navigate(`/agents/${agent.id}`);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  };
  return (
    <form id="new-agent" className="card form-grid" aria-labelledby="new-agent-title" onSubmit={(event) => void submit(event)}>
      <h2 id="new-agent-title">New agent</h2>
      <div className="field">
        <label htmlFor="new-agent-name">Name</label>
        <input id="new-agent-name" required value={name} onChange={(event) => { setName(event.target.value); }} autoFocus />
      </div>
      <div className="field">
        <label htmlFor="new-agent-type">Type</label>
        <select id="new-agent-type" value={agentType} onChange={(event) => { setAgentType(event.target.value); }}>
          {TYPES.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="new-agent-scopes">Allowed scopes</label>
        <input id="new-agent-scopes" value={scopes} onChange={(event) => { setScopes(event.target.value); }} aria-describedby="new-agent-scopes-hint" placeholder="agents:read invoices:read" />
        <p id="new-agent-scopes-hint" className="hint">
          Separated by spaces. Mandate&apos;s own scopes can be given only if you hold them.
        </p>
      </div>
      <div className="field">
        <label htmlFor="new-agent-owner">Owner (optional)</label>
        <input id="new-agent-owner" value={owner} onChange={(event) => { setOwner(event.target.value); }} />
      </div>
      <div className="field span">
        <label htmlFor="new-agent-description">Description (optional)</label>
        <input id="new-agent-description" value={description} onChange={(event) => { setDescription(event.target.value); }} />
      </div>
      <ErrorNote error={error} />
      <FormActions busy={busy} label="Create agent" onCancel={onCancel} />
    </form>
  );
}
