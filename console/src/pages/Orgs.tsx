import { type SubmitEvent, useState } from 'react';
import { EmptyRow, ErrorNote, Loading, PageHeader, Time } from '../components/bits';
import { useConsole } from '../context';
import { describeError } from '../errors';
import { useLoad } from '../hooks';
import { navigate } from '../router';

/** Instance administrators pick the organization they act in; an organization's token has one. */
export function Orgs(): React.JSX.Element {
  const { client, principal, orgId, chooseOrg } = useConsole();
  const instanceAdmin = principal.orgId === null;
  const orgs = useLoad(async () => {
    if (!instanceAdmin && principal.orgId !== null) return [await client.orgs.get(principal.orgId)];
    return (await client.orgs.list({ limit: 100 })).data;
  }, [client, instanceAdmin, principal.orgId]);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const create = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const org = await client.orgs.create({ name: name.trim() });
      setName('');
      orgs.reload();
      chooseOrg(org.id);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="Organizations" />
      {instanceAdmin ? (
        <p className="muted">You are an instance administrator: choose the organization to work in. Agents, credentials, audit events, webhooks and approvals belong to one.</p>
      ) : (
        <p className="muted">Your token belongs to this organization.</p>
      )}
      <ErrorNote error={orgs.error ?? error} />
      {orgs.data === undefined ? (
        orgs.error === undefined ? <Loading what="organizations" /> : null
      ) : (
        <div className="table-wrap">
          <table aria-label="Organizations">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="wide-only">
                  Id
                </th>
                <th scope="col" className="wide-only">
                  Plan
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
              {orgs.data.map((org) => (
                <tr key={org.id} aria-current={org.id === orgId ? 'true' : undefined}>
                  <td>{org.name}</td>
                  <td className="wide-only mono small">{org.id}</td>
                  <td className="wide-only">{org.plan}</td>
                  <td className="wide-only">
                    <Time value={org.createdAt} />
                  </td>
                  <td className="row-actions">
                    {instanceAdmin ? (
                      org.id === orgId ? (
                        <span className="badge">current</span>
                      ) : (
                        <button
                          type="button"
                          onClick={() => {
                            chooseOrg(org.id);
                            navigate('/agents');
                          }}
                          aria-label={`Work in ${org.name}`}
                        >
                          Work in it
                        </button>
                      )
                    ) : null}
                  </td>
                </tr>
              ))}
              {orgs.data.length === 0 ? <EmptyRow columns={5}>No organizations yet: create one.</EmptyRow> : null}
            </tbody>
          </table>
        </div>
      )}
      {instanceAdmin && principal.role === 'admin' ? (
        <form className="inline-form card" onSubmit={(event) => void create(event)} aria-label="New organization">
          <div className="field grow">
            <label htmlFor="org-name">New organization&apos;s name</label>
            <input id="org-name" required value={name} onChange={(event) => { setName(event.target.value); }} />
          </div>
          <button type="submit" className="primary" disabled={busy}>
            Create
          </button>
        </form>
      ) : null}
    </>
  );
}
