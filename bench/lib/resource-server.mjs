// A resource server protected by the TypeScript SDK's ProtectedResource on node:http, for
// the middleware scenarios: it verifies each request's token locally (JWKS fetched once
// from Mandate, then cached) and answers the token's subject. Run as its own process so
// its CPU is measured apart from Mandate's; prints {"baseUrl", "resource"} when listening.
//
//   node bench/lib/resource-server.mjs <issuer> <scope>
import http from 'node:http';
import { ProtectedResource } from '@mandate/sdk';

const [issuer, scope] = process.argv.slice(2);
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  const resource = `${baseUrl}/api`;
  const protection = new ProtectedResource({ resource, issuer, scopes: [scope] });
  server.on('request', async (req, res) => {
    const decision = await protection.authenticate({ method: req.method, path: req.url, headers: req.headers });
    if (decision.ok) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: decision.claims.sub }));
    } else {
      res.writeHead(decision.status, { ...decision.headers, 'content-type': 'application/json' }).end(JSON.stringify(decision.body));
    }
  });
  process.stdout.write(`${JSON.stringify({ baseUrl, resource })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
