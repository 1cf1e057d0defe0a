// Seeds the bench tenant through the public API, exactly as an operator would:
// one organization, its admin token, AGENTS agents (so a list page is full), one
// credential and one EC P-256 key per agent, and a few access tokens to introspect (which
// the token exchange scenario also presents as subject tokens).
import { generateKeyPairSync } from 'node:crypto';
import { dpopSigner } from './jws.mjs';

export const AGENTS = 25;
export const INTROSPECTED_TOKENS = 16;
export const SCOPE = 'agents:read';

async function call(baseUrl, method, path, { token, headers = {}, json, form, basic } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(10000) };
  if (token !== undefined) init.headers.authorization = `Bearer ${token}`;
  if (basic !== undefined) init.headers.authorization = basicAuth(basic.clientId, basic.secret);
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  if (form !== undefined) {
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const response = await fetch(baseUrl + path, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return text === '' ? null : JSON.parse(text);
}

/** RFC 6749 §2.3.1: form-encode the id and secret, then Basic-encode. */
export function basicAuth(clientId, secret) {
  const encode = (part) => encodeURIComponent(part).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export async function issueToken(baseUrl, credential, { resource, dpop } = {}) {
  const form = { grant_type: 'client_credentials', scope: SCOPE, ...(resource === undefined ? {} : { resource }) };
  return call(baseUrl, 'POST', '/oauth2/token', { basic: credential, form, headers: dpop === undefined ? {} : { dpop } });
}

/**
 * Tokens for the protected resource at `url` (its audience, RFC 8707): bearer tokens, and
 * tokens bound to one DPoP key with the signer of that key's proofs.
 */
export async function seedResource(baseUrl, tenant, url) {
  const proof = dpopSigner();
  const bearerTokens = [];
  const dpopTokens = [];
  for (let i = 0; i < INTROSPECTED_TOKENS; i++) {
    const credential = tenant.credentials[i % tenant.credentials.length];
    bearerTokens.push((await issueToken(baseUrl, credential, { resource: url })).access_token);
    const tokenProof = proof('POST', `${tenant.issuer}/oauth2/token`, Math.floor(Date.now() / 1000));
    dpopTokens.push((await issueToken(baseUrl, credential, { resource: url, dpop: tokenProof })).access_token);
  }
  return { url, bearerTokens, dpop: { tokens: dpopTokens, proof } };
}

/**
 * An organization with AGENTS agents, each with a credential and a key. `org` names it and may
 * give its plan and quota overrides (the server's default plan otherwise).
 */
export async function seed(baseUrl, bootstrapToken, org = { name: 'Bench Org' }) {
  const { id: orgId } = await call(baseUrl, 'POST', '/v1/orgs', { token: bootstrapToken, json: org });
  return seedOrg(baseUrl, bootstrapToken, orgId);
}

async function seedOrg(baseUrl, bootstrapToken, orgId) {
  const org = { id: orgId };
  const { token: adminToken } = await call(baseUrl, 'POST', `/v1/orgs/${org.id}/tokens`, {
    token: bootstrapToken,
    json: { role: 'admin', label: 'bench' },
  });
  const credentials = [];
  for (let i = 0; i < AGENTS; i++) {
    const agent = await call(baseUrl, 'POST', '/v1/agents', {
      token: adminToken,
      json: { name: `bench-agent-${String(i).padStart(2, '0')}`, agentType: 'tool', allowedScopes: [SCOPE] },
    });
    const { clientId, secret } = await call(baseUrl, 'POST', `/v1/agents/${agent.id}/credentials`, { token: adminToken, json: {} });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await call(baseUrl, 'POST', `/v1/agents/${agent.id}/keys`, { token: adminToken, json: { jwk: publicKey.export({ format: 'jwk' }) } });
    credentials.push({ agentId: agent.id, clientId, secret, privateKey, kid: key.kid });
  }
  const accessTokens = [];
  for (let i = 0; i < INTROSPECTED_TOKENS; i++) {
    accessTokens.push((await issueToken(baseUrl, credentials[i % credentials.length])).access_token);
  }
  const metadata = await call(baseUrl, 'GET', '/.well-known/oauth-authorization-server');
  return { orgId: org.id, adminToken, credentials, accessTokens, issuer: metadata.issuer };
}

/** One request of each scenario, checked field by field, before and after the load. */
export async function sanityCheck(baseUrl, tenant) {
  const issued = await issueToken(baseUrl, tenant.credentials[0]);
  if (typeof issued.access_token !== 'string' || issued.scope !== SCOPE) throw new Error(`Unexpected token response: ${JSON.stringify(issued)}`);
  const introspected = await call(baseUrl, 'POST', '/oauth2/introspect', { token: tenant.adminToken, form: { token: tenant.accessTokens[0] } });
  if (introspected.active !== true || introspected.org !== tenant.orgId) throw new Error(`Unexpected introspection: ${JSON.stringify(introspected)}`);
  const list = await call(baseUrl, 'GET', '/v1/agents?limit=20', { token: tenant.adminToken });
  if (!Array.isArray(list.data) || list.data.length !== 20) throw new Error(`Unexpected list page: ${JSON.stringify(list).slice(0, 300)}`);
}
