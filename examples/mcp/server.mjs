// An MCP server (the official @modelcontextprotocol/sdk, Streamable HTTP transport) that
// accepts only Mandate access tokens issued for it: audience = this server's URL (RFC 8707),
// scope `tools:call`, bearer or DPoP-bound. Mandate's ProtectedResource does the checking,
// answers refusals with the right WWW-Authenticate, and serves the RFC 9728 metadata that
// MCP clients read to find the authorization server.
//
//   MANDATE_BASE_URL=http://127.0.0.1:8080 PORT=3030 node server.mjs
import { ProtectedResource } from '@mandate/sdk';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { z } from 'zod';

const issuer = process.env.MANDATE_BASE_URL ?? 'http://127.0.0.1:8080';
const port = Number(process.env.PORT ?? 3030);
const resource = `http://127.0.0.1:${port}/mcp`;

const protection = new ProtectedResource({ resource, issuer, scopes: ['tools:call'], resourceName: 'Word tools (Mandate MCP example)' });

/** A fresh MCP server per request: the transport runs stateless, so nothing is shared between agents. */
function wordTools() {
  const server = new McpServer({ name: 'word-tools', version: '1.0.0' });
  server.registerTool(
    'count_words',
    { description: 'Counts the words of a text.', inputSchema: { text: z.string() } },
    async ({ text }, { authInfo }) => {
      const words = text.split(/\s+/).filter((word) => word !== '').length;
      return { content: [{ type: 'text', text: `${words} words (for agent ${authInfo.extra.agentId})` }] };
    },
  );
  return server;
}

const app = express();
// Every route below needs a token; the metadata path is served by the middleware itself.
app.use(protection.express());
app.post('/mcp', express.json(), async (req, res) => {
  const claims = res.locals.mandate;
  // The MCP SDK hands `req.auth` to tool handlers as `authInfo`.
  req.auth = {
    token: req.headers.authorization.split(' ')[1],
    clientId: claims.client_id,
    scopes: claims.scope.split(' '),
    expiresAt: claims.exp,
    resource: new URL(resource),
    extra: { agentId: claims.sub, orgId: claims.org },
  };
  const server = wordTools();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

app.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ mcp: resource, metadata: new URL(protection.metadataPath, resource).href }));
});
