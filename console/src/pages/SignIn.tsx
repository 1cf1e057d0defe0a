import { type SubmitEvent, useEffect, useRef, useState } from 'react';
import { type Session, signIn } from '../session';

/**
 * The admin API token is typed here and sent once, in the sign-in request; the field is then
 * emptied. The token is never kept in state, storage or a cookie that scripts can read.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice?: string }): React.JSX.Element {
  const field = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    field.current?.focus();
  }, []);
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const input = field.current;
    if (input === null) return;
    const token = input.value.trim();
    if (token === '') {
      setError('Enter an admin API token.');
      input.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(token);
      input.value = '';
      onSignedIn(session);
    } catch (failure) {
      input.value = '';
      setError(failure instanceof Error ? failure.message : 'Sign-in failed.');
      setBusy(false);
      input.focus();
    }
  };
  return (
    <main className="sign-in" id="main">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="sign-in-title" noValidate>
        <h1 id="sign-in-title">Mandate console</h1>
        <p className="muted">Sign in with an admin API token (an instance administrator&apos;s or an organization&apos;s).</p>
        {notice === undefined ? null : (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="admin-token">Admin API token</label>
        <input
          id="admin-token"
          name="admin-token"
          ref={field}
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="mdt_pat_…"
          aria-describedby={error === undefined ? 'admin-token-help' : 'admin-token-help sign-in-error'}
          aria-invalid={error === undefined ? undefined : true}
          disabled={busy}
        />
        <p id="admin-token-help" className="hint">
          The token is exchanged for a session cookie that scripts cannot read; it is not stored in this browser.
        </p>
        {error === undefined ? null : (
          <p id="sign-in-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
