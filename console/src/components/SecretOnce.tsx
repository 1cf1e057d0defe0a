import { useEffect, useRef, useState } from 'react';

export interface SecretOnceProps {
  /** What the secret is, e.g. "Client secret". */
  label: string;
  secret: string;
  /** Further values to show with it, such as the client id. */
  details?: { label: string; value: string }[];
  onDone: () => void;
}

/**
 * A secret the server shows only once (a credential's or a webhook's). It lives in this
 * component's state and nowhere else: dismissed or reloaded, it is gone for good.
 */
export function SecretOnce({ label, secret, details = [], onDone }: SecretOnceProps): React.JSX.Element {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <section className="secret" aria-labelledby="secret-once-heading" data-testid="secret-once">
      <h3 id="secret-once-heading" ref={heading} tabIndex={-1}>
        {label}: shown once
      </h3>
      <p>Store it now, in a secret manager. It cannot be shown again; rotate the credential if it is lost.</p>
      <dl>
        {details.map((detail) => (
          <div key={detail.label}>
            <dt>{detail.label}</dt>
            <dd>
              <code>{detail.value}</code>
            </dd>
          </div>
        ))}
        <div>
          <dt>{label}</dt>
          <dd>
            <code className="secret-value" data-testid="secret-value">
              {secret}
            </code>
          </dd>
        </div>
      </dl>
      <div className="actions">
        <button type="button" className="primary" onClick={() => void copy()}>
          Copy {label.toLowerCase()}
        </button>
        <button type="button" onClick={onDone}>
          I have stored it
        </button>
        <span role="status" className="muted">
          {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'The browser refused the clipboard: select the text and copy it.' : ''}
        </span>
      </div>
    </section>
  );
}
