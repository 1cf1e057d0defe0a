// The three measured calls, as autocannon request lists. Every request is built once
// (no per-request setup code), so the load generator spends its share of the cores on
// sending and parsing, not on building requests. Connections cycle through the list.
import { basicAuth, SCOPE } from './seed.mjs';

const FORM = 'application/x-www-form-urlencoded';

export const SCENARIOS = {
  issuance: {
    name: 'Token issuance',
    call: 'POST /oauth2/token',
    detail: `client_credentials, scope=${SCOPE}, client_secret_basic; cycles through the seeded agents' credentials`,
    target: 2000,
    // A 200 that is not a token counts as a mismatch.
    verifyBody: (body) => body.includes('"access_token":"'),
    requests: (tenant) =>
      tenant.credentials.map((credential) => ({
        method: 'POST',
        path: '/oauth2/token',
        headers: { 'content-type': FORM, authorization: basicAuth(credential.clientId, credential.secret) },
        body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`,
      })),
  },
  introspection: {
    name: 'Introspection (valid token)',
    call: 'POST /oauth2/introspect',
    detail: 'token=<live JWT>, caller authenticated with the org admin token (Bearer, tokens:introspect); cycles through the seeded access tokens',
    target: 5000,
    // A 200 saying {"active":false} would measure the wrong path: it counts as a mismatch.
    verifyBody: (body) => body.includes('"active":true'),
    requests: (tenant) =>
      tenant.accessTokens.map((token) => ({
        method: 'POST',
        path: '/oauth2/introspect',
        headers: { 'content-type': FORM, authorization: `Bearer ${tenant.adminToken}` },
        body: `token=${encodeURIComponent(token)}`,
      })),
  },
  list: {
    name: 'Authenticated list',
    call: 'GET /v1/agents?limit=20',
    detail: 'org admin token (Bearer); a full page of 20 agents',
    target: null,
    verifyBody: (body) => body.includes('"data":[{'),
    requests: (tenant) => [{ method: 'GET', path: '/v1/agents?limit=20', headers: { authorization: `Bearer ${tenant.adminToken}` } }],
  },
  // Not run by default (--scenarios=…,health): the ceiling of one process on this machine for
  // a call that touches neither PostgreSQL nor Redis (HTTP, Koa, routing, logging, metrics).
  health: {
    name: 'Ceiling: liveness',
    call: 'GET /health',
    detail: 'no database, no cache, no authentication: what HTTP + Koa + the middleware cost alone',
    target: null,
    optional: true,
    verifyBody: (body) => body.includes('"ok"'),
    requests: () => [{ method: 'GET', path: '/health' }],
  },
};
