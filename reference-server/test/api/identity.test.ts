import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { agentDid, instanceDid } from '../../src/domain/identity-documents';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

const ISSUER = 'https://auth.example.com:8443';
let server: TestServer;
let org: OrgFixture;
let admin: Api;

beforeAll(async () => {
  server = await startServer('embedded', { MANDATE_ISSUER: ISSUER });
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

const publicJwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });

describe('did:web identifiers', () => {
  it('follow the did:web method: host, an encoded port, path segments as colons', () => {
    expect(instanceDid('https://auth.example.com')).toBe('did:web:auth.example.com');
    expect(instanceDid('http://localhost:8080')).toBe('did:web:localhost%3A8080');
    expect(instanceDid('https://example.com/idp/mandate/')).toBe('did:web:example.com:idp:mandate');
    expect(agentDid('https://auth.example.com', 'agt_1')).toBe('did:web:auth.example.com:agents:agt_1');
  });
});

describe("the instance's DID document", () => {
  it('is public, and lists exactly the published token-signing keys', async () => {
    const response = await new Api(server.baseUrl).call('getInstanceDid');
    expect(response.headers.get('content-type')).toMatch(/^application\/did\+json/);
    const jwks = await new Api(server.baseUrl).call('getJwks');
    const did = 'did:web:auth.example.com%3A8443';
    expect(response.body).toMatchObject({ id: did, controller: did, authentication: [] });
    expect(response.body.verificationMethod).toEqual(
      jwks.body.keys.map((jwk: { kid: string }) => ({ id: `${did}#${jwk.kid}`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk })),
    );
    expect(response.body.assertionMethod).toEqual(response.body.verificationMethod.map((m: { id: string }) => m.id));
  });
});

describe("an agent's DID document", () => {
  it("lists the agent's registered public keys, for authentication and assertions, under the instance", async () => {
    const agent = await createAgent(admin);
    const first = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: publicJwk() } });
    const second = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: { ...publicJwk(), kid: 'next' } } });
    const response = await new Api(server.baseUrl, org.reader).call('getAgentDid', { path: { agentId: agent.id } });
    expect(response.status).toBe(200);
    const did = `did:web:auth.example.com%3A8443:agents:${agent.id as string}`;
    const ids = [`${did}#${first.body.kid as string}`, `${did}#next`];
    expect(response.body).toEqual({
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
      id: did,
      controller: 'did:web:auth.example.com%3A8443',
      verificationMethod: [
        { id: ids[0], type: 'JsonWebKey2020', controller: did, publicKeyJwk: first.body.jwk },
        { id: ids[1], type: 'JsonWebKey2020', controller: did, publicKeyJwk: second.body.jwk },
      ],
      authentication: ids,
      assertionMethod: ids,
    });
    expect(JSON.stringify(response.body)).not.toMatch(/"d":/);
  });

  it('is empty for an agent without keys, hidden from other organizations, and withdrawn (410) once decommissioned', async () => {
    const agent = await createAgent(admin);
    const empty = await admin.call('getAgentDid', { path: { agentId: agent.id } });
    expect(empty.body).toMatchObject({ verificationMethod: [], authentication: [], assertionMethod: [] });
    const other = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
    expect((await new Api(server.baseUrl, other.admin).call('getAgentDid', { path: { agentId: agent.id } })).status).toBe(404);
    await admin.call('decommissionAgent', { path: { agentId: agent.id } });
    for (const operationId of ['getAgentDid', 'getAgentCard']) {
      const gone = await admin.call(operationId, { path: { agentId: agent.id } });
      expect(gone.status).toBe(410);
      expect(gone.body.code).toBe('AGENT_DECOMMISSIONED');
    }
  });
});

describe("an agent's A2A card", () => {
  it('describes the agent, its skills, its provider and the token endpoint to get tokens from', async () => {
    const agent = await createAgent(admin, {
      description: 'Files expense reports',
      version: '2.1.0',
      capabilities: ['expenses', 'receipts'],
      metadata: { url: 'https://agents.example.com/expenses', inputModes: 'application/json, text/plain' },
    });
    const response = await new Api(server.baseUrl, org.reader).call('getAgentCard', { path: { agentId: agent.id } });
    expect(response.status).toBe(200);
    const orgRecord = await admin.call('getOrg', { path: { orgId: org.orgId } });
    expect(response.body).toEqual({
      name: agent.name,
      description: 'Files expense reports',
      url: 'https://agents.example.com/expenses',
      version: '2.1.0',
      provider: { organization: orgRecord.body.name, url: ISSUER },
      capabilities: {},
      securitySchemes: {
        mandate: {
          type: 'oauth2',
          description: `Access tokens from ${ISSUER} (OAuth 2.0 client credentials, resource https://agents.example.com/expenses).`,
          flows: { clientCredentials: { tokenUrl: `${ISSUER}/oauth2/token`, scopes: {} } },
        },
      },
      security: [{ mandate: [] }],
      defaultInputModes: ['application/json', 'text/plain'],
      defaultOutputModes: ['text/plain'],
      skills: [
        { id: 'expenses', name: 'expenses', description: 'expenses', tags: [] },
        { id: 'receipts', name: 'receipts', description: 'receipts', tags: [] },
      ],
    });
  });

  it('leaves out a url that is not an absolute http(s) URL, and defaults the version', async () => {
    const agent = await createAgent(admin, { metadata: { url: 'javascript:alert(1)' } });
    const card = await admin.call('getAgentCard', { path: { agentId: agent.id } });
    expect(card.body.url).toBeUndefined();
    expect(card.body.version).toBe('0.0.0');
    expect(card.body.description).toBe('');
  });
});
