// The measured calls, as autocannon request lists. Every request is built before the run
// (private_key_jwt only picks the next pre-signed body), so the load generator spends its
// share of the cores on sending and parsing, not on building requests. Connections cycle
// through the list.
import { createHash } from 'node:crypto';
import { clientAssertion, dpopSigner } from './jws.mjs';
import { basicAuth, SCOPE } from './seed.mjs';

const FORM = 'application/x-www-form-urlencoded';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/**
 * Once-only values (assertions, DPoP proofs) signed per second of load: each is accepted
 * once, so the list must outlast the run at the fastest rate any of these scenarios reaches.
 */
const SIGNED_PER_SECOND = 12_000;

/**
 * Requests that each need a once-only signed value (assertions, DPoP proofs): signed before
 * the run, and each request takes the next unused one, as autocannon would otherwise replay
 * one list on every connection.
 */
function preSigned(seconds, request, build) {
  const built = Array.from({ length: SIGNED_PER_SECOND * seconds }, (_, i) => build(i));
  let next = 0;
  return [{ ...request, setupRequest: (base) => ({ ...base, ...built[next++ % built.length] }) }];
}

export const SCENARIOS = {
  issuance: {
    name: 'Token issuance',
    call: 'POST /oauth2/token',
    detail: `client_credentials, scope=${SCOPE}, client_secret_basic; cycles through the seeded agents' credentials. Rate limits on (at rates it does not reach) and the organization on the pro plan with quotas it does not reach, so every request is limited and counted`,
    target: 2000,
    relativeTo: { scenario: 'issuance-limits-off', atLeast: 0.85 },
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
  'issuance-limits-off': {
    name: 'Token issuance, limits and quotas off',
    call: 'POST /oauth2/token',
    detail: `as "Token issuance", on a second server process with MANDATE_RATE_LIMITS=off and an organization on the enterprise plan (no quota): what the limits and quotas cost`,
    on: 'unlimited',
    target: null,
    verifyBody: (body) => body.includes('"access_token":"'),
    requests: (tenant) => SCENARIOS.issuance.requests(tenant),
  },
  'issuance-private-key-jwt': {
    name: 'Token issuance, private_key_jwt',
    call: 'POST /oauth2/token',
    detail: `client_credentials, scope=${SCOPE}, an ES256 client assertion (RFC 7523) per request, signed before the run; cycles through the seeded agents`,
    target: null,
    relativeTo: { scenario: 'issuance', atLeast: 0.5 },
    verifyBody: (body) => body.includes('"access_token":"'),
    requests: (tenant, seconds) => {
      const now = Math.floor(Date.now() / 1000);
      return preSigned(seconds, { method: 'POST', path: '/oauth2/token', headers: { 'content-type': FORM } }, (i) => {
        const credential = tenant.credentials[i % tenant.credentials.length];
        const assertion = clientAssertion(credential, tenant.issuer, now);
        return { body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, client_assertion_type: JWT_BEARER, client_assertion: assertion }).toString() };
      });
    },
  },
  'issuance-dpop': {
    name: 'Token issuance, DPoP-bound',
    call: 'POST /oauth2/token',
    detail: `client_credentials, scope=${SCOPE}, client_secret_basic and an ES256 DPoP proof (RFC 9449) per request, signed before the run; the token is bound to the proof's key (token_type DPoP, cnf.jkt)`,
    target: null,
    relativeTo: { scenario: 'issuance', atLeast: 0.5 },
    verifyBody: (body) => body.includes('"token_type":"DPoP"'),
    requests: (tenant, seconds) => {
      const now = Math.floor(Date.now() / 1000);
      const proof = dpopSigner();
      const htu = `${tenant.issuer}/oauth2/token`;
      const body = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`;
      return preSigned(seconds, { method: 'POST', path: '/oauth2/token' }, (i) => {
        const credential = tenant.credentials[i % tenant.credentials.length];
        return { headers: { 'content-type': FORM, authorization: basicAuth(credential.clientId, credential.secret), dpop: proof('POST', htu, now) }, body };
      });
    },
  },
  'token-exchange': {
    name: 'Token exchange (delegation)',
    call: 'POST /oauth2/token',
    detail: 'RFC 8693: an agent (client_secret_basic) exchanges another agent\'s access token; each exchange records a delegation; cycles through the seeded tokens',
    target: null,
    relativeTo: { scenario: 'issuance', atLeast: 0.5 },
    verifyBody: (body) => body.includes('"issued_token_type":"'),
    requests: (tenant) =>
      tenant.accessTokens.map((subjectToken, i) => {
        // The actor is the next seeded agent: never the subject itself.
        const actor = tenant.credentials[(i + 1) % tenant.credentials.length];
        const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, scope: SCOPE });
        return { method: 'POST', path: '/oauth2/token', headers: { 'content-type': FORM, authorization: basicAuth(actor.clientId, actor.secret) }, body: form.toString() };
      }),
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
  // A resource server (the TypeScript SDK's ProtectedResource), not Mandate, answers these.
  'resource-bearer': {
    name: 'Protected resource, bearer token',
    call: 'GET /api (resource server)',
    detail: 'a separate node:http process verifying each token with the TypeScript SDK\'s ProtectedResource: signature against the cached JWKS, iss, aud = its own URL (RFC 8707), exp, scope; cycles through the seeded tokens',
    on: 'resource',
    target: null,
    verifyBody: (body) => body.includes('"sub":"'),
    requests: (tenant) => tenant.resource.bearerTokens.map((token) => ({ method: 'GET', path: '/api', headers: { authorization: `Bearer ${token}` } })),
  },
  'resource-dpop': {
    name: 'Protected resource, DPoP-bound token',
    call: 'GET /api (resource server)',
    detail: 'the same, with DPoP-bound tokens and a DPoP proof per request (signed before the run): the proof\'s signature, htm, htu, iat, ath, its key against cnf.jkt, and its jti against the replay cache',
    on: 'resource',
    target: null,
    // Every request checks two ES256 signatures (the token's and the proof's) where a bearer
    // request checks one, plus the proof's hashes: a little under half the bearer rate.
    relativeTo: { scenario: 'resource-bearer', atLeast: 0.4 },
    verifyBody: (body) => body.includes('"sub":"'),
    requests: (tenant, seconds) => {
      const now = Math.floor(Date.now() / 1000);
      const { tokens, proof } = tenant.resource.dpop;
      const hashes = tokens.map((token) => createHash('sha256').update(token).digest('base64url'));
      return preSigned(seconds, { method: 'GET', path: '/api' }, (i) => {
        const n = i % tokens.length;
        return { headers: { authorization: `DPoP ${tokens[n]}`, dpop: proof('GET', tenant.resource.url, now, hashes[n]) } };
      });
    },
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
