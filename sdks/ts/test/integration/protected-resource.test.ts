/**
 * ProtectedResource against the real reference server: a small Express service on a local
 * listener accepts tokens the server issued for it (`resource` = its URL, RFC 8707), as Bearer
 * and DPoP-bound with proofs from createDpopProof, and refuses a token for another audience
 * (401) or without its scope (403).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Mandate, ProtectedResource } from '../../src/index';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

let server: LiveServer;
let service: Server;
let resourceUrl: string;
let metadataUrl: string;
let agent: { id: string; clientId: string; secret: string };

beforeAll(async () => {
  server = await startLiveServer();
  const instance = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instance.orgs.create({ name: `resource-${Date.now()}` });
  const orgToken = await instance.adminTokens.create(org.id, { role: 'admin', label: 'resource-test' });
  const admin = new Mandate({ baseURL: server.baseURL, apiToken: orgToken.token });
  const created = await admin.agents.create({ name: 'tool-caller', agentType: 'autonomous', allowedScopes: ['agents:read', 'tools:call'] });
  const credential = await admin.credentials.create(created.id, { label: 'resource' });
  agent = { id: created.id, clientId: credential.clientId, secret: credential.secret };

  service = createServer();
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  resourceUrl = `${origin}/mcp`;
  metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const resource = new ProtectedResource({ resource: resourceUrl, issuer: server.baseURL, scopes: ['tools:call'], resourceName: 'Test tools' });
  const app = express();
  app.use(resource.express());
  app.post('/mcp', (_req, res) => {
    res.json({ sub: (res.locals.mandate as { sub: string }).sub });
  });
  service.on('request', app);
}, 60_000);
afterAll(async () => {
  await new Promise<void>((resolve) => {
    service.close(() => {
      resolve();
    });
  });
  await server.stop();
});

const agentClient = (dpop?: true): Mandate =>
  new Mandate({ baseURL: server.baseURL, clientId: agent.clientId, clientSecret: agent.secret, ...(dpop === undefined ? {} : { dpop }) });

const call = (headers: Record<string, string>) => fetch(resourceUrl, { method: 'POST', headers });

it('publishes its metadata, naming the server', async () => {
  const response = await fetch(metadataUrl);
  expect(response.status).toBe(200);
  await expect(response.json()).resolves.toMatchObject({ resource: resourceUrl, authorization_servers: [server.baseURL], scopes_supported: ['tools:call'], resource_name: 'Test tools' });
});

it('accepts a Bearer token issued for it', async () => {
  const issued = await agentClient().oauth.issueToken({ grant_type: 'client_credentials', scope: 'tools:call', resource: resourceUrl });
  expect(issued.token_type).toBe('Bearer');
  const response = await call({ authorization: `Bearer ${issued.access_token}` });
  expect(response.status).toBe(200);
  await expect(response.json()).resolves.toEqual({ sub: agent.id });
});

it('accepts a DPoP-bound token with proofs from createDpopProof, and refuses it as Bearer or with a replayed proof', async () => {
  const client = agentClient(true);
  const issued = await client.oauth.issueToken({ grant_type: 'client_credentials', scope: 'tools:call', resource: resourceUrl });
  expect(issued.token_type).toBe('DPoP');
  const token = issued.access_token;
  for (let i = 0; i < 2; i++) {
    const proof = await client.createDpopProof({ method: 'POST', url: resourceUrl, accessToken: token });
    const response = await call({ authorization: `DPoP ${token}`, dpop: proof });
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ sub: agent.id });
  }
  const asBearer = await call({ authorization: `Bearer ${token}` });
  expect(asBearer.status).toBe(401);
  expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_token", /);
  const proof = await client.createDpopProof({ method: 'POST', url: resourceUrl, accessToken: token });
  expect((await call({ authorization: `DPoP ${token}`, dpop: proof })).status).toBe(200);
  const replay = await call({ authorization: `DPoP ${token}`, dpop: proof });
  expect(replay.status).toBe(401);
  expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
});

it('refuses a token for another audience with 401', async () => {
  const forServer = await agentClient().oauth.issueToken({ grant_type: 'client_credentials', scope: 'tools:call' });
  const response = await call({ authorization: `Bearer ${forServer.access_token}` });
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe(
    `Bearer error="invalid_token", error_description="The access token is not for this resource.", resource_metadata="${metadataUrl}"`,
  );
  await expect(response.json()).resolves.toMatchObject({ error: 'invalid_token' });
});

it('refuses a token without the required scope with 403', async () => {
  const narrow = await agentClient().oauth.issueToken({ grant_type: 'client_credentials', scope: 'agents:read', resource: resourceUrl });
  const response = await call({ authorization: `Bearer ${narrow.access_token}` });
  expect(response.status).toBe(403);
  expect(response.headers.get('www-authenticate')).toBe(
    `Bearer error="insufficient_scope", error_description="The access token lacks a scope this resource requires.", scope="tools:call", resource_metadata="${metadataUrl}"`,
  );
});
