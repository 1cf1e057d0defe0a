import { html } from './html';

/**
 * The device verification page (RFC 8628 §3.3): where an agent sends its person. It decides
 * nothing; it says how an operator approves the request the code names.
 */
export function renderDevicePage(issuer: string, userCode: string | undefined): string {
  const code = userCode !== undefined && /^[A-Za-z]{4}-?[A-Za-z]{4}$/.test(userCode) ? userCode.toUpperCase() : undefined;
  const page = html`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Approve an agent - Mandate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}code,kbd{font:1.1em ui-monospace,monospace}kbd{font-size:2rem;letter-spacing:.2em;padding:.2rem .6rem;border:1px solid #999;border-radius:.3rem}</style>
</head>
<body>
<h1>An agent asks to be let in</h1>
${code === undefined ? html`<p>The agent shows a code of eight letters, like <code>WDJB-MJHT</code>.</p>` : html`<p>The code the agent shows is</p><p><kbd>${code}</kbd></p>`}
<p>Check that it is the code your agent shows, then ask an operator of your organization to approve or deny it:</p>
<ol>
<li>find the request: <code>GET ${issuer}/v1/approvals?userCode=${code ?? 'XXXX-XXXX'}</code></li>
<li>approve it: <code>POST ${issuer}/v1/approvals/{approvalId}/approve</code>, or deny it: <code>POST …/deny</code></li>
</ol>
<p>Approve only an agent you expect. A request marked <code>impersonationSuspected</code> claims a name or a key that belongs to another agent.</p>
</body>
</html>
`;
  return page.markup;
}
