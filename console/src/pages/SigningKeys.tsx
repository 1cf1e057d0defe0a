import { useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorNote, Loading, PageHeader, Status, Time } from '../components/bits';
import { useConsole } from '../context';
import { describeError } from '../errors';
import { useLoad } from '../hooks';

export function SigningKeys(): React.JSX.Element {
  const { client, principal } = useConsole();
  const keys = useLoad(async () => (await client.signingKeys.list()).data, [client]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [rotated, setRotated] = useState<string | undefined>();
  // Rotation is the instance administrators' (keys:admin): organization tokens only read the list.
  const instanceAdmin = principal.orgId === null && principal.role === 'admin';
  const rotate = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const key = await client.signingKeys.rotate();
      setRotated(`New key ${key.kid} is published now and starts signing at ${new Date(key.activatesAt).toLocaleString()}.`);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
      setConfirming(false);
      keys.reload();
    }
  };
  return (
    <>
      <PageHeader title="Signing keys">
        {instanceAdmin ? (
          <button type="button" className="primary" onClick={() => { setConfirming(true); }} disabled={busy}>
            Rotate
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">The keys that sign access tokens, as published in the JWK Set. Only instance administrators rotate them.</p>
      {rotated === undefined ? null : (
        <p className="notice" role="status">
          {rotated}
        </p>
      )}
      <ErrorNote error={error ?? keys.error} />
      {keys.data === undefined ? (
        keys.error === undefined ? <Loading what="signing keys" /> : null
      ) : (
        <div className="table-wrap">
          <table aria-label="Signing keys">
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Algorithm</th>
                <th scope="col">Status</th>
                <th scope="col" className="wide-only">
                  Created
                </th>
                <th scope="col" className="wide-only">
                  Signs from
                </th>
                <th scope="col" className="wide-only">
                  Retired
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <tr key={key.kid}>
                  <td className="mono">{key.kid}</td>
                  <td>{key.alg}</td>
                  <td>
                    <Status value={key.status} />
                  </td>
                  <td className="wide-only">
                    <Time value={key.createdAt} />
                  </td>
                  <td className="wide-only">
                    <Time value={key.activatesAt} />
                  </td>
                  <td className="wide-only">
                    <Time value={key.retiredAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog open={confirming} title="Rotate the signing key?" confirmLabel="Rotate" busy={busy} onConfirm={() => void rotate()} onCancel={() => { setConfirming(false); }}>
        <p>A new key is published at once and starts signing after the activation delay. The current key stays published until its last token expires.</p>
      </ConfirmDialog>
    </>
  );
}
