import { AuthenticationError } from '../../src/index';
import { absent, agent, mockClient } from '../helpers/mock';

const credentials = { apiToken: undefined, clientId: 'agt_bot', clientSecret: 'mdt_sk_secret' };
const basic = `Basic ${Buffer.from('agt_bot:mdt_sk_secret').toString('base64')}`;
const tokenReply = (token: string, expiresIn = 3600) => ({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: 'agents:read' });

describe('token manager', () => {
  it('gets one token with client_secret_basic and shares it between concurrent calls', async () => {
    const { client, api } = mockClient(credentials);
    api
      .post('/oauth2/token', 'grant_type=client_credentials')
      .matchHeader('authorization', basic)
      .once()
      .delay(20)
      .reply(200, tokenReply('tok-1'));
    api.get(/\/v1\/agents\/agt_\d/).matchHeader('authorization', 'Bearer tok-1').times(5).reply(200, agent('agt_1'));
    await Promise.all([1, 2, 3, 4, 5].map((n) => client.agents.get(`agt_${n}`)));
  });

  it('sends the configured scope', async () => {
    const { client, api } = mockClient({ ...credentials, scope: 'agents:read audit:read' });
    api.post('/oauth2/token', 'grant_type=client_credentials&scope=agents%3Aread+audit%3Aread').reply(200, tokenReply('tok-1'));
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
  });

  it('reuses the token until a minute before expiry, then refreshes', async () => {
    const { client, clock, api } = mockClient(credentials);
    api.post('/oauth2/token').reply(200, tokenReply('tok-1', 3600));
    api.get('/v1/agents/agt_1').times(2).matchHeader('authorization', 'Bearer tok-1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    clock.advance(3600_000 - 61_000);
    await client.agents.get('agt_1');
    clock.advance(2_000);
    api.post('/oauth2/token').reply(200, tokenReply('tok-2', 3600));
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer tok-2').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
  });

  it('refreshes at half the lifetime of a short-lived token', async () => {
    const { client, clock, api } = mockClient(credentials);
    api.post('/oauth2/token').reply(200, tokenReply('tok-1', 60));
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    clock.advance(31_000);
    api.post('/oauth2/token').reply(200, tokenReply('tok-2', 60));
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer tok-2').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
  });

  it('on a 401 gets a fresh token and retries once', async () => {
    const { client, api } = mockClient(credentials);
    api.post('/oauth2/token').reply(200, tokenReply('tok-old'));
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer tok-old').reply(401, { code: 'INVALID_TOKEN', status: 401 });
    api.post('/oauth2/token').reply(200, tokenReply('tok-new'));
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer tok-new').reply(200, agent('agt_1'));
    await expect(client.agents.get('agt_1')).resolves.toMatchObject({ id: 'agt_1' });
  });

  it('a second 401 is the caller’s AuthenticationError, with no further token requests', async () => {
    const { client, api } = mockClient(credentials);
    api.post('/oauth2/token').times(2).reply(200, tokenReply('tok'));
    api.get('/v1/agents/agt_1').times(2).reply(401, { code: 'INVALID_TOKEN', status: 401 }, { 'content-type': 'application/problem+json' });
    await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
  });

  it('does not refresh an API token on 401', async () => {
    const { client, api } = mockClient();
    api.get('/v1/agents/agt_1').once().reply(401, { code: 'INVALID_TOKEN', status: 401 }, { 'content-type': 'application/problem+json' });
    await expect(client.agents.get('agt_1')).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('a failed token request fails the callers waiting for it with the OAuth error', async () => {
    const { client, api } = mockClient(credentials);
    api.post('/oauth2/token').reply(401, { error: 'invalid_client' }, { 'content-type': 'application/json' });
    const calls = [client.agents.get('agt_1'), client.agents.get('agt_2')];
    for (const call of calls) await expect(call).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
  });

  it('authenticates the OAuth endpoints with Basic, and public ones not at all', async () => {
    const { client, api } = mockClient(credentials);
    api.post('/oauth2/introspect', 'token=abc').matchHeader('authorization', basic).reply(200, { active: false });
    api.get('/.well-known/jwks.json').matchHeader('authorization', absent).reply(200, { keys: [] });
    await expect(client.oauth.introspect({ token: 'abc' })).resolves.toEqual({ active: false });
    await expect(client.oauth.jwks()).resolves.toEqual({ keys: [] });
  });

  it('an API token authenticates introspection as a bearer', async () => {
    const { client, api } = mockClient();
    api.post('/oauth2/introspect').matchHeader('authorization', 'Bearer mdt_pat_test').reply(200, { active: true });
    await expect(client.oauth.introspect({ token: 'abc' })).resolves.toEqual({ active: true });
  });
});
