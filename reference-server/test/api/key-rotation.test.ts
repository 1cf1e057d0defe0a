import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Api } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { headerOf, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

const ACTIVATION_DELAY_SECONDS = 2;
let server: TestServer;
let root: Api;
let org: OrgFixture;
let client: { clientId: string; secret: string };
let db: pg.Client;

const jwksKids = async (): Promise<string[]> =>
  ((await new Api(server.baseUrl).call('getJwks')).body.keys as { kid: string }[]).map((k) => k.kid);
const active = async (token: string): Promise<boolean> =>
  (await postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${org.admin}`)).body.active === true;

beforeAll(async () => {
  // Keys are instance-wide: a database of its own keeps other suites' keys out of this.
  const databaseUrl = await isolatedDatabaseUrl('rotation');
  server = await startServer('postgres', { DATABASE_URL: databaseUrl, MANDATE_KEY_ACTIVATION_DELAY_SECONDS: String(ACTIVATION_DELAY_SECONDS) });
  root = new Api(server.baseUrl, server.bootstrapToken);
  org = await createOrg(root);
  const api = new Api(server.baseUrl, org.admin);
  const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
  const credential = await api.call('createCredential', { path: { agentId: agent.id } });
  client = { clientId: agent.id, secret: credential.body.secret };
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await server.close();
});

describe('signing key rotation', () => {
  it('publishes the new key before it signs, and keeps the old one while its tokens live', async () => {
    const before = await tokenFor(server.baseUrl, client);
    const oldKid = headerOf(before).kid as string;

    const rotated = await root.call('rotateSigningKeys');
    expect(rotated.status).toBe(201);
    expect(rotated.body.status).toBe('pending');
    const newKid = rotated.body.kid as string;

    // Published at once, not signing yet.
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(headerOf(await tokenFor(server.baseUrl, client)).kid).toBe(oldKid);

    await new Promise((resolve) => setTimeout(resolve, ACTIVATION_DELAY_SECONDS * 1000 + 200));
    const after = await tokenFor(server.baseUrl, client);
    expect(headerOf(after).kid).toBe(newKid);

    // Tokens of the old key still verify; the JWK Set still holds both keys.
    expect(await active(before)).toBe(true);
    expect(await active(after)).toBe(true);
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));

    const keys = await root.call('listSigningKeys');
    const old = keys.body.data.find((k: { kid: string }) => k.kid === oldKid);
    expect(old.status).toBe('retired');
    // Published until the last token it could have signed has expired (1 h tokens, 60 s skew).
    expect(Date.parse(old.publishedUntil) - Date.parse(old.retiredAt)).toBe(3600_000 + 60_000);
    expect(keys.body.data.find((k: { kid: string }) => k.kid === newKid).status).toBe('active');
  }, 30_000);

  it('drops a retired key once its tokens have expired, and its tokens with it', async () => {
    const token = await tokenFor(server.baseUrl, client);
    const kid = headerOf(token).kid as string;
    expect(await active(token)).toBe(true); // verified once, so the server remembers it
    await root.call('rotateSigningKeys');
    // Stand in for the hour passing: the key's publication ended a moment ago.
    await db.query(`UPDATE signing_keys SET retired_at = now() - interval '2 hours', published_until = now() - interval '1 second' WHERE kid = $1`, [kid]);
    await server.mandate.keys.reload(); // what every instance does on its own within 10 s
    expect(await jwksKids()).not.toContain(kid);
    expect(await active(token)).toBe(false);
  }, 30_000);

  it('is for the instance administrator only, and is audited on the instance chain', async () => {
    const refused = await root.as(org.admin).call('rotateSigningKeys');
    expect(refused.body.code).toBe('INSTANCE_ADMIN_REQUIRED');
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE chain = 'instance' AND action = 'signing_key.rotated'`);
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });

  it('refuses a rotation that would publish more keys than a JWK Set may hold', async () => {
    let published = (await root.call('listSigningKeys')).body.data.length as number;
    while (published < 20) {
      expect((await root.call('rotateSigningKeys')).status).toBe(201);
      published += 1;
    }
    const refused = await root.call('rotateSigningKeys');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('TOO_MANY_SIGNING_KEYS');
    expect(refused.body.detail).toMatch(/20 signing keys are published.*Rotate again after \d{4}-/);
    await server.mandate.keys.reload();
    expect(await jwksKids()).toHaveLength(20);
    // Once the oldest retired key is withdrawn, rotation works again.
    await db.query(`UPDATE signing_keys SET published_until = now() - interval '1 second' WHERE kid = (SELECT kid FROM signing_keys WHERE published_until > now() ORDER BY published_until, kid LIMIT 1)`);
    expect((await root.call('rotateSigningKeys')).status).toBe(201);
  }, 60_000);
});
