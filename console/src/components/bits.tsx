import { type ReactNode, useEffect } from 'react';

/** A failure to read or change something, announced to screen readers at once. */
export function ErrorNote({ error }: { error: string | undefined }): React.JSX.Element | null {
  if (error === undefined) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}

export function Status({ value }: { value: string }): React.JSX.Element {
  return <span className={`badge badge-${value.replace(/[^a-z_-]/gi, '')}`}>{value}</span>;
}

/** A UTC timestamp shown in the reader's locale, with the exact value on hover and for machines. */
export function Time({ value }: { value: string | null | undefined }): React.JSX.Element {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  const date = new Date(value);
  return (
    <time dateTime={value} title={value}>
      {Number.isNaN(date.getTime()) ? value : date.toLocaleString()}
    </time>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }): React.JSX.Element {
  // The tab's title names the page too, for history, bookmarks and screen readers.
  useEffect(() => {
    document.title = `${title} · Mandate console`;
  }, [title]);
  return (
    <div className="page-header">
      <h1 tabIndex={-1} data-page-title>
        {title}
      </h1>
      {children === undefined ? null : <div className="actions">{children}</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }): React.JSX.Element {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** The one row of a table with nothing in it, across all its columns. */
export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }): React.JSX.Element {
  return (
    <tr>
      <td colSpan={columns} className="muted">
        {children}
      </td>
    </tr>
  );
}

/** A creation form's buttons: submit (busy while it runs) and cancel. */
export function FormActions({ busy, label, onCancel }: { busy: boolean; label: string; onCancel: () => void }): React.JSX.Element {
  return (
    <div className="actions span">
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Creating…' : label}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
