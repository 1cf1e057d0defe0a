/**
 * Workload identity federation: a client with a federated token (a string, a function or a
 * file) gets its access tokens with the JWT bearer grant (RFC 7523 §2.1), sending the token as
 * the assertion and no client authentication, and reads the token anew for each token request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { AuthenticationError, Mandate, MandateError, type ClientOptions } from '../../src/index';
import { withEnv } from '../helpers/env';
import { FakeClock } from '../helpers/fake-clock';
import { BASE, absent, agent, captureForms } from '../helpers/mock';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const EXTERNAL_TOKEN = 'eyJ.github-actions-id-token.sig';
const tokenReply = (token: string) => ({ access_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'agents:read' });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mandate-wif-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function workloadClient(options: ClientOptions): { client: Mandate; clock: FakeClock; api: nock.Scope } {
  const clock = new FakeClock();
  return { client: new Mandate({ baseURL: BASE, clock, ...options }), clock, api: nock(BASE) };
}

function writeToken(name: string, contents: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, contents);
  return file;
}

/** The cached token outlives this: the next call needs a new token request. */
const PAST_EXPIRY_MS = 3600_000;

describe('the JWT bearer grant', () => {
  it('sends the token as the assertion, without client_id or scope when none is configured, and no Authorization header', async () => {
    const { client, api } = workloadClient({ federatedToken: EXTERNAL_TOKEN });
    const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_wif')]);
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_wif').reply(200, agent('agt_target'));
    await client.agents.get('agt_target');
    expect(forms).toEqual([{ grant_type: JWT_BEARER, assertion: EXTERNAL_TOKEN }]);
  });

  it('adds client_id and scope when configured', async () => {
    const { client, api } = workloadClient({ federatedToken: EXTERNAL_TOKEN, clientId: 'agt_target', scope: 'agents:read' });
    const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_wif')]);
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_wif').reply(200, agent('agt_target'));
    await client.agents.get('agt_target');
    expect(forms).toEqual([{ grant_type: JWT_BEARER, assertion: EXTERNAL_TOKEN, client_id: 'agt_target', scope: 'agents:read' }]);
  });

  it('caches the access token, and shares one token request among concurrent calls', async () => {
    const { client, api } = workloadClient({ federatedToken: EXTERNAL_TOKEN });
    const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_wif')]);
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_wif').times(3).reply(200, agent('agt_target'));
    await Promise.all([client.agents.get('agt_target'), client.agents.get('agt_target')]);
    await client.agents.get('agt_target');
    expect(forms).toHaveLength(1);
  });

  it('asks a function for the current token on every token request; a 401 on a call refreshes once', async () => {
    let asked = 0;
    const { client, api } = workloadClient({ federatedToken: () => Promise.resolve(`ext-${++asked}`) });
    const forms = captureForms(api, '/oauth2/token', 3, (n) => [200, tokenReply(`at_${n}`)]);
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_0').reply(401, { code: 'UNAUTHENTICATED' });
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_1').reply(200, agent('agt_target'));
    await client.agents.get('agt_target');
    // Only one refresh per call: a second 401 is the caller's AuthenticationError.
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_1').reply(401, { code: 'UNAUTHENTICATED' });
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_2').reply(401, { code: 'UNAUTHENTICATED' });
    await expect(client.agents.get('agt_target')).rejects.toBeInstanceOf(AuthenticationError);
    expect(forms.map((form) => form.assertion)).toEqual(['ext-1', 'ext-2', 'ext-3']);
  });

  it('reads the token file again for every token request', async () => {
    const file = path.join(dir, 'rotated-token');
    writeFileSync(file, 'ext-before-rotation\n');
    const { client, clock, api } = workloadClient({ federatedTokenFile: file, clientId: 'agt_target' });
    const forms = captureForms(api, '/oauth2/token', 2, (n) => [200, tokenReply(`at_${n}`)]);
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_0').reply(200, agent('agt_target'));
    api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_1').reply(200, agent('agt_target'));
    await client.agents.get('agt_target');
    // Kubernetes rewrites a projected token in place.
    writeFileSync(file, 'ext-after-rotation');
    clock.advance(PAST_EXPIRY_MS);
    await client.agents.get('agt_target');
    expect(forms).toEqual([
      { grant_type: JWT_BEARER, assertion: 'ext-before-rotation', client_id: 'agt_target' },
      { grant_type: JWT_BEARER, assertion: 'ext-after-rotation', client_id: 'agt_target' },
    ]);
  });

  it.each<[string, () => ClientOptions, RegExp]>([
    ['a missing token file', () => ({ federatedTokenFile: path.join(dir, 'missing') }), /the federated token file .*missing cannot be read \(ENOENT\)/],
    ['an empty token file', () => ({ federatedTokenFile: writeToken('empty', ' \n') }), /the federated token file .*empty is empty/],
    ['a function that returns an empty token', () => ({ federatedToken: () => '' }), /the federatedToken function returned an empty token/],
  ])('%s fails the call with AuthenticationError and sends nothing', async (_name, options, message) => {
    const { client } = workloadClient(options());
    const failure = client.agents.get('agt_target');
    await expect(failure).rejects.toBeInstanceOf(AuthenticationError);
    await expect(failure).rejects.toMatchObject({ status: 0, code: undefined, message });
  });

  it('an unreadable token file is named, its contents never', async () => {
    const file = writeToken('not-a-token-dir', 'ext-secret-contents');
    const { client } = workloadClient({ federatedTokenFile: path.join(file, 'token') });
    const failure: unknown = await client.agents.get('agt_target').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthenticationError);
    expect((failure as Error).message).toContain(path.join(file, 'token'));
    expect(JSON.stringify(failure) + String(failure)).not.toContain('ext-secret-contents');
  });

  it('the server’s refusal of the token (400 invalid_grant) is the call’s AuthenticationError', async () => {
    const { client, api } = workloadClient({ federatedToken: EXTERNAL_TOKEN, clientId: 'agt_target' });
    captureForms(api, '/oauth2/token', 1, () => [400, { error: 'invalid_grant', error_description: 'No trust policy accepts the token.' }]);
    const failure = client.agents.get('agt_target');
    await expect(failure).rejects.toBeInstanceOf(AuthenticationError);
    await expect(failure).rejects.toMatchObject({ status: 400, code: 'invalid_grant' });
  });

  it('oauth.issueToken with the grant is sent as given, with no client authentication', async () => {
    const { client, api } = workloadClient({ apiToken: '' });
    const forms = captureForms(api, '/oauth2/token', 1, () => [400, { error: 'invalid_grant' }]);
    const failure = client.oauth.issueToken({ grant_type: JWT_BEARER, assertion: EXTERNAL_TOKEN });
    await expect(failure).rejects.toMatchObject({ status: 400, code: 'invalid_grant' });
    expect(forms).toEqual([{ grant_type: JWT_BEARER, assertion: EXTERNAL_TOKEN }]);
  });
});

describe('federated token configuration', () => {
  it.each<[string, ClientOptions, RegExp]>([
    ['a federated token and a secret', { federatedToken: EXTERNAL_TOKEN, clientId: 'agt_x', clientSecret: 'mdt_sk_x' }, /federated token alone/],
    ['a token file and a private key', { federatedTokenFile: '/var/run/token', clientId: 'agt_x', privateKey: '{"kty":"OKP"}' }, /federated token alone/],
    ['a token and a token file', { federatedToken: EXTERNAL_TOKEN, federatedTokenFile: '/var/run/token' }, /federatedToken or federatedTokenFile .*not both/],
  ])('%s is a configuration error when the client is built', (_name, options, message) => {
    expect(() => new Mandate({ baseURL: BASE, ...options })).toThrow(MandateError);
    expect(() => new Mandate({ baseURL: BASE, ...options })).toThrow(message);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['MANDATE_FEDERATED_TOKEN and MANDATE_CLIENT_SECRET', { MANDATE_FEDERATED_TOKEN: EXTERNAL_TOKEN, MANDATE_CLIENT_ID: 'agt_x', MANDATE_CLIENT_SECRET: 'mdt_sk_x' }, /federated token alone/],
    ['MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE', { MANDATE_FEDERATED_TOKEN: EXTERNAL_TOKEN, MANDATE_FEDERATED_TOKEN_FILE: '/var/run/token' }, /not both/],
  ])('%s in the environment are a configuration error', async (_name, env, message) => {
    await withEnv(env, () => {
      expect(() => new Mandate({ baseURL: BASE })).toThrow(message);
      return Promise.resolve();
    });
  });
});

describe('MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE', () => {
  it('an explicit apiToken, or id and secret, ignores MANDATE_FEDERATED_TOKEN (and _FILE)', async () => {
    // Both variables at once would be a configuration error, were they read.
    await withEnv({ MANDATE_FEDERATED_TOKEN: EXTERNAL_TOKEN, MANDATE_FEDERATED_TOKEN_FILE: '/var/run/token' }, async () => {
      const admin = workloadClient({ apiToken: 'mdt_pat_explicit' });
      admin.api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer mdt_pat_explicit').reply(200, agent('agt_1'));
      await admin.client.agents.get('agt_1');

      const bot = workloadClient({ clientId: 'agt_bot', clientSecret: 'mdt_sk_bot' });
      const basic = `Basic ${Buffer.from('agt_bot:mdt_sk_bot').toString('base64')}`;
      const forms = captureForms(bot.api, '/oauth2/token', 1, () => [200, tokenReply('at_bot')], basic);
      bot.api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_bot').reply(200, agent('agt_1'));
      await bot.client.agents.get('agt_1');
      expect(forms).toEqual([{ grant_type: 'client_credentials' }]);
    });
  });

  it('an explicit federated token ignores the credential variables', async () => {
    const env = { MANDATE_API_TOKEN: 'mdt_pat_env', MANDATE_CLIENT_ID: 'agt_env', MANDATE_CLIENT_SECRET: 'mdt_sk_env' };
    await withEnv(env, async () => {
      const { client, api } = workloadClient({ federatedToken: EXTERNAL_TOKEN });
      const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_wif')]);
      api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_wif').reply(200, agent('agt_1'));
      await client.agents.get('agt_1');
      expect(forms).toEqual([{ grant_type: JWT_BEARER, assertion: EXTERNAL_TOKEN }]);
    });
  });

  it('a client given no credential reads MANDATE_FEDERATED_TOKEN_FILE (with MANDATE_CLIENT_ID and MANDATE_SCOPE)', async () => {
    const file = writeToken('from-env', 'ext-from-env-file\n');
    await withEnv({ MANDATE_FEDERATED_TOKEN_FILE: file, MANDATE_CLIENT_ID: 'agt_target', MANDATE_SCOPE: 'agents:read' }, async () => {
      const { client, api } = workloadClient({});
      const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_env')]);
      api.get('/v1/agents/agt_target').matchHeader('authorization', 'Bearer at_env').reply(200, agent('agt_target'));
      await client.agents.get('agt_target');
      expect(forms).toEqual([{ grant_type: JWT_BEARER, assertion: 'ext-from-env-file', client_id: 'agt_target', scope: 'agents:read' }]);
    });
  });

  it('a client given no credential reads MANDATE_FEDERATED_TOKEN', async () => {
    await withEnv({ MANDATE_FEDERATED_TOKEN: EXTERNAL_TOKEN }, async () => {
      const { client, api } = workloadClient({});
      const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_env')]);
      api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_env').reply(200, agent('agt_1'));
      await client.agents.get('agt_1');
      expect(forms).toEqual([{ grant_type: JWT_BEARER, assertion: EXTERNAL_TOKEN }]);
    });
  });

  it('an empty federatedToken option keeps the environment out and is no credential', async () => {
    await withEnv({ MANDATE_FEDERATED_TOKEN: EXTERNAL_TOKEN, MANDATE_API_TOKEN: 'mdt_pat_env' }, async () => {
      const { client, api } = workloadClient({ federatedToken: '' });
      api.get('/v1/agents/agt_1').matchHeader('authorization', absent).reply(401, { code: 'UNAUTHENTICATED' });
      await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status: 401 });
    });
  });
});
