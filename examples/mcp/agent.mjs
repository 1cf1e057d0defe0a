// An agent that gets a Mandate access token for the MCP server (RFC 8707 `resource`, scope
// `tools:call`) and calls its `count_words` tool with the official MCP client.
//
//   MANDATE_BASE_URL=… MANDATE_CLIENT_ID=… MANDATE_CLIENT_SECRET=… \
//     MCP_URL=http://127.0.0.1:3030/mcp node agent.mjs ["some text"] [--dpop]
//
// With --dpop the token is bound to a key held in memory (RFC 9449) and every MCP request
// carries a fresh proof of possession, so a stolen token is useless on its own.
import { Mandate } from '@mandate/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const args = process.argv.slice(2);
const dpop = args.includes('--dpop');
const text = args.find((arg) => arg !== '--dpop') ?? 'agents deserve real identities';
const mcpUrl = process.env.MCP_URL ?? 'http://127.0.0.1:3030/mcp';

// The client id and secret come from MANDATE_CLIENT_ID and MANDATE_CLIENT_SECRET.
const mandate = new Mandate(dpop ? { dpop: true } : {});
const token = await mandate.oauth.issueToken({ grant_type: 'client_credentials', scope: 'tools:call', resource: mcpUrl });

/** Sends the token with the scheme it was issued for; a DPoP-bound token gets a proof per request. */
async function authorizedFetch(url, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `${token.token_type} ${token.access_token}`);
  if (token.token_type === 'DPoP') {
    const method = init.method ?? 'GET';
    headers.set('DPoP', await mandate.createDpopProof({ method, url: String(url), accessToken: token.access_token }));
  }
  return fetch(url, { ...init, headers });
}

const mcp = new Client({ name: 'mandate-example-agent', version: '1.0.0' });
await mcp.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { fetch: authorizedFetch }));
const result = await mcp.callTool({ name: 'count_words', arguments: { text } });
console.log(result.content[0].text);
await mcp.close();
