/**
 * Two independent Mandate processes (each its own embedded store and signing keys) that
 * list each other as federation partners: each verifies the other's agents' tokens, and a
 * trust policy lets an agent of one act as an agent of the other with no shared secret.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { TEST_BOOTSTRAP_TOKEN } from '../helpers/env';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { claimsOf, postForm, tokenFor } from '../helpers/oauth';
import { type ServerProcess, startProcess } from '../helpers/process';

interface Instance {
  process: ServerProcess;
  dataDir: string;
  org: OrgFixture;
  admin: Api;
  issuer: string;
}

const instances: Instance[] = [];

async function startInstance(): Promise<Instance> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mandate-federation-'));
  // Each names its own port as its issuer (http://localhost:PORT) and may fetch the other's keys over loopback.
  const process = startProcess({ MANDATE_DATA_DIR: dataDir, MANDATE_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN, MANDATE_INSECURE_ISSUER_HOSTS: 'localhost,127.0.0.1' });
  const instance = { process, dataDir } as Instance;
  instances.push(instance);
  await process.ready();
  instance.org = await createOrg(new Api(process.baseUrl(), TEST_BOOTSTRAP_TOKEN));
  instance.admin = new Api(process.baseUrl(), instance.org.admin);
  instance.issuer = (await instance.admin.call('getOpenIdConfiguration')).body.issuer as string;
  return instance;
}

/** An agent of `instance` with a credential, and a token of it for `audience`. */
async function agentToken(instance: Instance, audience: string): Promise<{ agent: Body; token: string }> {
  const agent = await createAgent(instance.admin, { allowedScopes: ['agents:read'] });
  const credential = await instance.admin.call('createCredential', { path: { agentId: agent.id } });
  const token = await tokenFor(instance.process.baseUrl(), { clientId: agent.id as string, secret: credential.body.secret as string }, { resource: audience });
  return { agent, token };
}

let a: Instance;
let b: Instance;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance(), startInstance()]);
  for (const [self, other] of [[a, b], [b, a]] as const) {
    const partner = await self.admin.call('createFederationPartner', {
      body: { name: 'the other instance', issuer: other.issuer, jwksUri: `${other.process.baseUrl()}/.well-known/jwks.json` },
    });
    expect(partner.status).toBe(201);
  }
}, 90_000);

afterAll(async () => {
  for (const { process } of instances) process.child.kill('SIGTERM');
  await Promise.all(instances.map(({ process }) => process.exited));
  for (const { dataDir } of instances) rmSync(dataDir, { recursive: true, force: true });
});

describe('two Mandate instances as federation partners', () => {
  it("verify each other's agents' tokens", async () => {
    expect(a.issuer).not.toBe(b.issuer);
    for (const [issuing, verifying] of [[a, b], [b, a]] as const) {
      const { agent, token } = await agentToken(issuing, verifying.issuer);
      const verdict = await verifying.admin.call('verifyFederatedToken', { body: { token, audience: verifying.issuer } });
      expect(verdict.status).toBe(200);
      expect(verdict.body).toMatchObject({ valid: true, issuer: issuing.issuer, subject: agent.id, audience: [verifying.issuer], error: null });
      expect((verdict.body.claims).org).toBe(issuing.org.orgId);
    }
  });

  it('refuse a token for another audience, a tampered one, and one of an instance that is not a partner', async () => {
    const { token } = await agentToken(a, a.issuer);
    expect((await b.admin.call('verifyFederatedToken', { body: { token, audience: b.issuer } })).body.error).toMatchObject({ code: 'audience_mismatch' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...claimsOf(token), sub: 'agt_00000000000000000000000000' })).toString('base64url');
    expect((await b.admin.call('verifyFederatedToken', { body: { token: `${header}.${forged}.${signature}` } })).body.error).toMatchObject({ code: 'bad_signature' });
    expect(payload).not.toBe(forged);
    // An instance does not list itself: its own tokens are not a partner's.
    expect((await a.admin.call('verifyFederatedToken', { body: { token } })).body).toMatchObject({ valid: false, partnerId: null, error: { code: 'unknown_issuer' } });
  });

  it("let an agent of one instance act as an agent of the other through a trust policy", async () => {
    const { agent: visitor, token } = await agentToken(a, b.issuer);
    const host = await createAgent(b.admin, { allowedScopes: ['agents:read'] });
    const policy = await b.admin.call('createTrustPolicy', {
      body: { name: 'visitors from A', issuer: a.issuer, audience: b.issuer, conditions: { sub: visitor.id, org: a.org.orgId }, agentId: host.id, scopes: ['agents:read'] },
    });
    expect(policy.status).toBe(201);
    const exchanged = await postForm(b.process.baseUrl(), '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: token });
    expect(exchanged.status).toBe(200);
    expect(claimsOf(exchanged.body.access_token as string)).toMatchObject({ iss: b.issuer, sub: host.id, org: b.org.orgId });
  });
});
