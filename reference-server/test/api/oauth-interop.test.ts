/**
 * Interoperability: the OAuth endpoints driven by unmodified, widely used client libraries
 * (oauth4webapi, openid-client v6) and the issued tokens verified by jose. The libraries'
 * own request builders and response processors are used throughout, so every answer of the
 * server is checked by their validation rules, not by ours.
 *
 * Issuer vs. address. The test server listens on a random loopback port, unknown before it
 * starts, so MANDATE_ISSUER cannot name the address the tests reach. Instead the server gets
 * a fixed https issuer, `https://mandate.interop.test`, which resolves nowhere: the metadata
 * lists every endpoint under it, and each library is given a custom fetch that only rewrites
 * the origin of outgoing requests from the issuer to the real loopback base URL. So the
 * libraries see and validate the server's documents exactly as served, including `issuer`
 * (RFC 8414 §3.3), and tokens carry `iss` = `aud` = that issuer, while the libraries stay in
 * their strict mode (no `allowInsecureRequests`, which an http issuer such as the default
 * `http://localhost:8080` would need). jose fetches the JWK Set from the base URL directly.
 *
 * jose, oauth4webapi and openid-client are ES modules only: they are loaded with import()
 * (jest runs with --experimental-vm-modules; SWC leaves import() alone), types only statically.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { createAgent, createOrg } from '../helpers/fixtures';
import { basic, claimsOf } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

type Oauth = typeof import('oauth4webapi');
type Jose = typeof import('jose');
type OpenIdClient = typeof import('openid-client');
type AuthorizationServer = import('oauth4webapi').AuthorizationServer;

/** The server's issuer in these tests (see above). */
const ISSUER = 'https://mandate.interop.test';
const SCOPES = 'agents:read tokens:introspect';
const FORM = 'application/x-www-form-urlencoded';

let server: TestServer;
let oauth: Oauth;
let jose: Jose;
let client: OpenIdClient;
let as: AuthorizationServer;
let agentId: string;
let secret: string;
let orgId: string;

/** fetch, with requests for the issuer's origin sent to the test server instead. */
function issuerFetch(url: string, options: RequestInit): Promise<Response> {
  const target = new URL(url);
  if (target.origin !== ISSUER) throw new Error(`Unexpected request to ${url}`);
  return fetch(server.baseUrl + target.pathname + target.search, options);
}

/** Options every oauth4webapi call that does I/O takes here: the rewriting fetch. */
function httpOptions(): { [key: symbol]: unknown } {
  return { [oauth.customFetch]: issuerFetch };
}

/** A plain form POST, for what the libraries do not let us do (bad requests, raw headers). */
function postForm(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.baseUrl + path, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body: new URLSearchParams(form) });
}


/** GET /v1/agents with the access token as bearer: the server's own API accepting (or not) the token. */
async function listAgentsWith(token: string): Promise<{ status: number; body: Body }> {
  const response = await new Api(server.baseUrl, token).call('listAgents');
  return { status: response.status, body: response.body };
}

beforeAll(async () => {
  // One after another: jest's ESM loader can race when two import() graphs share jose.
  jose = await import('jose');
  oauth = await import('oauth4webapi');
  client = await import('openid-client');
  server = await startServer('postgres', { MANDATE_ISSUER: ISSUER, MANDATE_DEVICE_POLL_INTERVAL_SECONDS: '1' });
  const org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  orgId = org.orgId;
  const admin = new Api(server.baseUrl, org.admin);
  const agent = await createAgent(admin, { allowedScopes: SCOPES.split(' ') });
  agentId = agent.id as string;
  const credential = await admin.call('createCredential', { path: { agentId } });
  expect(credential.status).toBe(201);
  expect(credential.body.clientId).toBe(agentId);
  secret = credential.body.secret as string;

  // RFC 8414 discovery, validated by oauth4webapi (issuer match, JSON object, https-or-allowed).
  const response = await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...httpOptions() });
  as = await oauth.processDiscoveryResponse(new URL(ISSUER), response);
});
afterAll(() => server.close());

describe('discovery (RFC 8414)', () => {
  it('publishes metadata that oauth4webapi accepts for this issuer', () => {
    expect(as).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth2/token`,
      introspection_endpoint: `${ISSUER}/oauth2/introspect`,
      revocation_endpoint: `${ISSUER}/oauth2/revoke`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
    });
    expect(as.grant_types_supported).toEqual(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:device_code']);
    expect(as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(as.scopes_supported).toEqual(expect.arrayContaining(SCOPES.split(' ')));
  });

  it('serves the same document as OpenID Provider configuration, accepted by the oidc algorithm', async () => {
    const response = await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oidc', ...httpOptions() });
    expect(new URL(response.url).pathname).toBe('/.well-known/openid-configuration');
    expect(await oauth.processDiscoveryResponse(new URL(ISSUER), response)).toEqual(as);
  });

  it('is rejected by the client for a different expected issuer (the check is live)', async () => {
    const response = await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...httpOptions() });
    await expect(oauth.processDiscoveryResponse(new URL('https://mandate.other.test'), response)).rejects.toThrow(/issuer/);
  });
});

describe('oauth4webapi: client_credentials → introspection → revocation', () => {
  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    it(`issues, introspects and revokes a token with ${method}`, async () => {
      const auth = method === 'client_secret_basic' ? oauth.ClientSecretBasic(secret) : oauth.ClientSecretPost(secret);
      const oauthClient = { client_id: agentId };

      const tokenResponse = await oauth.clientCredentialsGrantRequest(as, oauthClient, auth, { scope: SCOPES }, httpOptions());
      expect(tokenResponse.status).toBe(200);
      expect(tokenResponse.headers.get('cache-control')).toBe('no-store');
      const issued = await oauth.processClientCredentialsResponse(as, oauthClient, tokenResponse);
      expect(issued.token_type).toBe('bearer'); // oauth4webapi lower-cases it
      expect(issued.expires_in).toBe(3600);
      expect(issued.scope).toBe(SCOPES);
      const token = issued.access_token;

      // The token works on the server's own API…
      expect((await listAgentsWith(token)).status).toBe(200);

      // …and introspection (RFC 7662) reports it, validated by oauth4webapi.
      const introspected = await oauth.processIntrospectionResponse(
        as,
        oauthClient,
        await oauth.introspectionRequest(as, oauthClient, auth, token, httpOptions()),
      );
      const claims = jose.decodeJwt(token);
      expect(introspected).toEqual({
        active: true,
        scope: SCOPES,
        client_id: agentId,
        sub: agentId,
        aud: ISSUER,
        iss: ISSUER,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        token_type: 'Bearer',
        org: orgId,
      });

      // Revocation (RFC 7009), then the token is inactive everywhere.
      const revocation = await oauth.revocationRequest(as, oauthClient, auth, token, httpOptions());
      expect(revocation.status).toBe(200); // RFC 7009 §2.2 (processRevocationResponse insists too)
      expect(revocation.headers.get('cache-control')).toBe('no-store');
      await expect(oauth.processRevocationResponse(revocation)).resolves.toBeUndefined();
      const after = await oauth.processIntrospectionResponse(
        as,
        oauthClient,
        await oauth.introspectionRequest(as, oauthClient, auth, token, httpOptions()),
      );
      expect(after).toEqual({ active: false });
      const refused = await listAgentsWith(token);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('INVALID_TOKEN');

      // Revoking again is still a success (RFC 7009 §2.2).
      await expect(
        oauth.processRevocationResponse(await oauth.revocationRequest(as, oauthClient, auth, token, httpOptions())),
      ).resolves.toBeUndefined();
    });
  }

  it('surfaces OAuth error responses through the library (invalid_scope, invalid_client)', async () => {
    const oauthClient = { client_id: agentId };
    const badScope = await oauth.clientCredentialsGrantRequest(as, oauthClient, oauth.ClientSecretBasic(secret), { scope: 'orgs:write' }, httpOptions());
    expect(badScope.headers.get('cache-control')).toBe('no-store');
    const scopeError: unknown = await oauth.processClientCredentialsResponse(as, oauthClient, badScope).catch((e: unknown) => e);
    expect(scopeError).toBeInstanceOf(oauth.ResponseBodyError);
    expect(scopeError).toMatchObject({ status: 400, error: 'invalid_scope' });

    const badSecret = await oauth.clientCredentialsGrantRequest(as, oauthClient, oauth.ClientSecretPost(`${secret}x`), {}, httpOptions());
    expect(badSecret.status).toBe(401);
    expect(badSecret.headers.get('cache-control')).toBe('no-store');
    // A 401 carries a WWW-Authenticate challenge (RFC 6749 §5.2), which oauth4webapi reports first.
    const authError: unknown = await oauth.processClientCredentialsResponse(as, oauthClient, badSecret).catch((e: unknown) => e);
    expect(authError).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(authError).toMatchObject({ status: 401, cause: [expect.objectContaining({ scheme: 'basic' })] });
  });
});

describe('openid-client v6', () => {
  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    it(`discovers, obtains, introspects and revokes a token with ${method}`, async () => {
      const auth = method === 'client_secret_basic' ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);
      // Default algorithm "oidc": /.well-known/openid-configuration.
      const config = await client.discovery(new URL(ISSUER), agentId, undefined, auth, { [client.customFetch]: issuerFetch });
      expect(config.serverMetadata().issuer).toBe(ISSUER);

      const issued = await client.clientCredentialsGrant(config, { scope: 'agents:read' });
      expect(issued.token_type).toBe('bearer');
      expect(issued.scope).toBe('agents:read');
      expect(issued.expiresIn()).toBeGreaterThan(3500);

      const introspected = await client.tokenIntrospection(config, issued.access_token);
      expect(introspected).toMatchObject({ active: true, client_id: agentId, sub: agentId, scope: 'agents:read', aud: ISSUER, iss: ISSUER });

      await client.tokenRevocation(config, issued.access_token, { token_type_hint: 'access_token' });
      expect(await client.tokenIntrospection(config, issued.access_token)).toEqual({ active: false });
    });
  }
});

describe('private_key_jwt (RFC 7523 §2.2) with the libraries\' own assertions', () => {
  let keyAgentId: string;
  let privateKey: import('jose').CryptoKey;
  let kid: string;
  beforeAll(async () => {
    const admin = new Api(server.baseUrl, (await createOrg(new Api(server.baseUrl, server.bootstrapToken))).admin);
    keyAgentId = (await createAgent(admin, { allowedScopes: SCOPES.split(' ') })).id as string;
    const pair = await jose.generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const added = await admin.call('addAgentKey', { path: { agentId: keyAgentId }, body: { jwk: await jose.exportJWK(pair.publicKey) } });
    expect(added.status).toBe(201);
    kid = added.body.kid as string;
  });

  it('is advertised, and oauth4webapi obtains, introspects and revokes a token with it', async () => {
    expect(as.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(as.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
    const oauthClient = { client_id: keyAgentId };
    // A fresh assertion (new jti) for every request, as the library signs one per call.
    const auth = oauth.PrivateKeyJwt({ key: privateKey, kid });
    const issued = await oauth.processClientCredentialsResponse(
      as,
      oauthClient,
      await oauth.clientCredentialsGrantRequest(as, oauthClient, auth, { scope: 'agents:read' }, httpOptions()),
    );
    expect(issued.scope).toBe('agents:read');
    expect(jose.decodeJwt(issued.access_token)).toMatchObject({ sub: keyAgentId, client_id: keyAgentId, iss: ISSUER });
    const introspected = await oauth.processIntrospectionResponse(
      as,
      oauthClient,
      await oauth.introspectionRequest(as, oauthClient, auth, issued.access_token, httpOptions()),
    );
    expect(introspected).toMatchObject({ active: true, sub: keyAgentId });
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, oauthClient, auth, issued.access_token, httpOptions()));
    expect((await listAgentsWith(issued.access_token)).status).toBe(401);
  });

  it('openid-client v6 discovers and obtains tokens with it, one assertion per request', async () => {
    const config = await client.discovery(new URL(ISSUER), keyAgentId, undefined, client.PrivateKeyJwt({ key: privateKey, kid }), { [client.customFetch]: issuerFetch });
    const first = await client.clientCredentialsGrant(config, { scope: 'agents:read' });
    const second = await client.clientCredentialsGrant(config, { scope: 'agents:read' });
    expect(first.access_token).not.toBe(second.access_token);
    expect((await listAgentsWith(second.access_token)).status).toBe(200);
  });

  it('is refused through the library when the key is not the agent\'s', async () => {
    const stranger = await jose.generateKeyPair('ES256');
    const oauthClient = { client_id: keyAgentId };
    const response = await oauth.clientCredentialsGrantRequest(as, oauthClient, oauth.PrivateKeyJwt({ key: stranger.privateKey, kid }), {}, httpOptions());
    expect(response.status).toBe(401);
    await expect(oauth.processClientCredentialsResponse(as, oauthClient, response)).rejects.toThrow();
  });
});

describe('token exchange (RFC 8693) with openid-client\'s generic grant', () => {
  it('obtains a delegated token whose act names the actor, and introspects it', async () => {
    const admin = new Api(server.baseUrl, (await createOrg(new Api(server.baseUrl, server.bootstrapToken))).admin);
    const clientOf = async (): Promise<{ id: string; secret: string }> => {
      const agent = await createAgent(admin, { allowedScopes: ['agents:read', 'tokens:introspect'] });
      const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
      return { id: agent.id as string, secret: credential.body.secret as string };
    };
    const [subject, actor] = [await clientOf(), await clientOf()];
    const options = { [client.customFetch]: issuerFetch };
    const subjectConfig = await client.discovery(new URL(ISSUER), subject.id, undefined, client.ClientSecretBasic(subject.secret), options);
    const subjectToken = (await client.clientCredentialsGrant(subjectConfig, { scope: 'agents:read tokens:introspect' })).access_token;

    const actorConfig = await client.discovery(new URL(ISSUER), actor.id, undefined, client.ClientSecretBasic(actor.secret), options);
    expect(actorConfig.serverMetadata().grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
    const delegated = await client.genericGrantRequest(actorConfig, 'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'agents:read',
    });
    expect(delegated).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'agents:read' });
    expect(jose.decodeJwt(delegated.access_token)).toMatchObject({ sub: subject.id, client_id: actor.id, act: { sub: actor.id } });
    const introspected = await client.tokenIntrospection(actorConfig, delegated.access_token);
    expect(introspected).toMatchObject({ active: true, sub: subject.id, act: { sub: actor.id } });
  });
});

describe('device authorization (RFC 8628) with openid-client v6', () => {
  let admin: Api;
  beforeAll(async () => {
    admin = new Api(server.baseUrl, (await createOrg(new Api(server.baseUrl, server.bootstrapToken))).admin);
  });

  /** A public client of a registered agent; the library polls while the test decides as the operator. */
  async function deviceFlow(decide: (approvalId: string) => Promise<unknown>) {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const config = await client.discovery(new URL(ISSUER), agent.id as string, undefined, client.None(), { [client.customFetch]: issuerFetch });
    const started = await client.initiateDeviceAuthorization(config, { scope: 'agents:read' });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${ISSUER}/device`);
    const polling = client.pollDeviceAuthorizationGrant(config, started);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a poll or two find it pending
    const found = await admin.call('listApprovals', { query: { userCode: started.user_code } });
    await decide((found.body.data as Body[])[0]?.id as string);
    return { agent, polling };
  }

  it('initiates, keeps polling while the request is pending, and gets the token once a person approves', async () => {
    const { agent, polling } = await deviceFlow((approvalId) => admin.call('approveApproval', { path: { approvalId }, body: {} }));
    const tokens = await polling;
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const { payload } = await jose.jwtVerify(tokens.access_token, jose.createLocalJWKSet({ keys: (await server.mandate.keys.published()).map((k) => k.publicJwk) as never }), { issuer: ISSUER });
    expect(payload).toMatchObject({ sub: agent.id, scope: 'agents:read' });
  });

  it('stops with access_denied when the person denies', async () => {
    const { polling } = await deviceFlow((approvalId) => admin.call('denyApproval', { path: { approvalId }, body: {} }));
    await expect(polling).rejects.toMatchObject({ error: 'access_denied' });
  });
});

describe('dynamic client registration (RFC 7591) with openid-client v6', () => {
  it('registers a client with an initial access token, then obtains a token as that client', async () => {
    const initialAccessToken = (await createOrg(new Api(server.baseUrl, server.bootstrapToken))).admin;
    const config = await client.dynamicClientRegistration(
      new URL(ISSUER),
      { client_name: `dcr-interop-${Date.now()}`, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'agents:read' },
      undefined,
      { initialAccessToken, [client.customFetch]: issuerFetch },
    );
    const registered = config.clientMetadata();
    expect(registered.client_id).toMatch(/^agt_/);
    expect(registered.registration_access_token).toMatch(/^mdt_rat_/);
    const issued = await client.clientCredentialsGrant(config, { scope: 'agents:read' });
    const { payload } = await jose.jwtVerify(issued.access_token, jose.createLocalJWKSet({ keys: (await server.mandate.keys.published()).map((k) => k.publicJwk) as never }), { issuer: ISSUER });
    expect(payload).toMatchObject({ sub: registered.client_id, scope: 'agents:read' });
  });
});

describe('DPoP (RFC 9449) with openid-client v6', () => {
  it('obtains a DPoP-bound token and calls the API with it, a new proof per request', async () => {
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const config = await client.discovery(new URL(ISSUER), agentId, undefined, client.ClientSecretBasic(secret), { [client.customFetch]: issuerFetch });
    const DPoP = client.getDPoPHandle(config, keyPair);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'agents:read' }, { DPoP });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const thumbprint = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey), 'sha256');
    expect((claimsOf(tokens.access_token).cnf as Body).jkt).toBe(thumbprint);
    for (let i = 0; i < 2; i++) {
      const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(`${ISSUER}/v1/agents/${agentId}`), 'GET', undefined, undefined, { DPoP });
      expect(response.status).toBe(200);
    }
    // Stolen, the token is useless as a bearer token.
    expect((await listAgentsWith(tokens.access_token)).status).toBe(401);
  });
});

describe('the access token (RFC 9068)', () => {
  let token: string;
  beforeAll(async () => {
    const issued = await oauth.processClientCredentialsResponse(
      as,
      { client_id: agentId },
      await oauth.clientCredentialsGrantRequest(as, { client_id: agentId }, oauth.ClientSecretBasic(secret), {}, httpOptions()),
    );
    token = issued.access_token;
  });

  it('verifies with jose against the published JWK Set, with typ, iss, aud and exp checked', async () => {
    const jwks = jose.createRemoteJWKSet(new URL(`${server.baseUrl}/.well-known/jwks.json`));
    const before = Math.floor(Date.now() / 1000);
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: ISSUER,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(typeof protectedHeader.kid).toBe('string');
    expect(Object.keys(protectedHeader).sort()).toEqual(['alg', 'kid', 'typ']); // no jku/x5u/jwk for verifiers to trust
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'org', 'scope', 'sub']);
    expect(payload).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: agentId, client_id: agentId, scope: SCOPES, org: orgId });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.iat).toBeGreaterThanOrEqual(before - 5);
    expect(payload.exp).toBe((payload.iat ?? 0) + 3600);

    // The JWK Set names the key with the token's kid, as an ES256 signing key with no private part.
    const set: Body = await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json();
    const key = set.keys.find((k: { kid: string }) => k.kid === protectedHeader.kid);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key.d).toBeUndefined();

    // And the checks are live: another audience, issuer or type is refused by jose.
    await expect(jose.jwtVerify(token, jwks, { audience: 'https://elsewhere.example' })).rejects.toThrow(jose.errors.JWTClaimValidationFailed);
    await expect(jose.jwtVerify(token, jwks, { issuer: 'https://elsewhere.example' })).rejects.toThrow(jose.errors.JWTClaimValidationFailed);
    await expect(jose.jwtVerify(token, jwks, { typ: 'JWT' })).rejects.toThrow(jose.errors.JWTClaimValidationFailed);
  });

  it('passes oauth4webapi validateJwtAccessToken, the RFC 9068 resource-server check', async () => {
    const request = new Request('https://resource.example/', { headers: { authorization: `Bearer ${token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, ISSUER, httpOptions());
    expect(claims).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: agentId, client_id: agentId });
    const elsewhere = new Request('https://resource.example/', { headers: { authorization: `Bearer ${token}` } });
    await expect(oauth.validateJwtAccessToken(as, elsewhere, 'https://resource.example', httpOptions())).rejects.toThrow(/aud/);
  });
});

describe('resource indicators (RFC 8707)', () => {
  const RESOURCE = 'https://invoices.example.com/api';

  it('sets aud to the resource; the token then works there and not on Mandate\'s own API', async () => {
    const oauthClient = { client_id: agentId };
    const issued = await oauth.processClientCredentialsResponse(
      as,
      oauthClient,
      await oauth.clientCredentialsGrantRequest(as, oauthClient, oauth.ClientSecretPost(secret), { scope: 'agents:read', resource: RESOURCE }, httpOptions()),
    );
    const jwks = jose.createRemoteJWKSet(new URL(`${server.baseUrl}/.well-known/jwks.json`));
    const { payload } = await jose.jwtVerify(issued.access_token, jwks, { issuer: ISSUER, audience: RESOURCE, typ: 'at+jwt' });
    expect(payload.aud).toBe(RESOURCE);
    await expect(jose.jwtVerify(issued.access_token, jwks, { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt' })).rejects.toThrow(/aud/);

    // The resource server can introspect it (any audience)…
    const introspected = await oauth.processIntrospectionResponse(
      as,
      oauthClient,
      await oauth.introspectionRequest(as, oauthClient, oauth.ClientSecretPost(secret), issued.access_token, httpOptions()),
    );
    expect(introspected).toMatchObject({ active: true, aud: RESOURCE, scope: 'agents:read' });

    // …but Mandate's API is not its audience, even though the scope would allow the call.
    const refused = await listAgentsWith(issued.access_token);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('INVALID_TOKEN');
  });

  // The form is validated against the spec's TokenRequest schema (resource: maxLength 2000).
  it('refuses a resource longer than the spec allows (maxLength 2000)', async () => {
    const resource = `https://invoices.example.com/${'a'.repeat(60_000)}`;
    const response = await postForm('/oauth2/token', { grant_type: 'client_credentials', resource }, { authorization: basic(agentId, secret) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Body).error).toBe('invalid_target'); // malformed resource, RFC 8707 §2
  });

  it('refuses several resources in one request (one audience per token)', async () => {
    const response = await fetch(`${server.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(agentId, secret) },
      body: 'grant_type=client_credentials&resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Body).error).toBe('invalid_target');
  });

  it('refuses a relative resource and one with a fragment (invalid_target)', async () => {
    for (const resource of ['/relative/path', 'https://invoices.example.com/api#frag']) {
      const response = await postForm('/oauth2/token', { grant_type: 'client_credentials', resource }, { authorization: basic(agentId, secret) });
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toMatchObject({ error: 'invalid_target' });
    }
  });
});

describe('Cache-Control on the token endpoint', () => {
  it('is no-store on success and on every kind of failure', async () => {
    const cases: [Record<string, string>, Record<string, string>, number][] = [
      [{ grant_type: 'client_credentials' }, { authorization: basic(agentId, secret) }, 200],
      [{ grant_type: 'client_credentials', client_id: agentId, client_secret: secret }, {}, 200],
      [{ grant_type: 'password' }, { authorization: basic(agentId, secret) }, 400],
      [{ grant_type: 'client_credentials' }, { authorization: basic(agentId, 'wrong') }, 401],
      [{ grant_type: 'client_credentials' }, {}, 401],
    ];
    for (const [form, headers, status] of cases) {
      const response = await postForm('/oauth2/token', form, headers);
      expect(response.status).toBe(status);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });
});
