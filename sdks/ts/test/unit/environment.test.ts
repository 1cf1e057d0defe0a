/**
 * Where credentials come from (sdks/README.md): explicit options win, and credentials come
 * from the options or from the environment, never a mix of both. Each test records the
 * Authorization header of every request actually sent.
 */
import nock from 'nock';
import { Mandate, MandateError, type ClientOptions } from '../../src/index';
import { FakeClock } from '../helpers/fake-clock';
import { withEnv } from '../helpers/env';
import { BASE, absent, agent } from '../helpers/mock';

const ADMIN_TOKEN = 'mdt_pat_instance_admin_from_env';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const tokenReply = (token: string) => ({ access_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'agents:read' });

/** A client whose every request's Authorization header (or null) lands in `sent`. */
function recordingClient(options: ClientOptions): { client: Mandate; sent: (string | null)[] } {
  const sent: (string | null)[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push(new Headers(init?.headers).get('authorization'));
    return fetch(input, init);
  };
  return { client: new Mandate({ clock: new FakeClock(), fetch: recordingFetch, ...options }), sent };
}

describe('credentials from one place', () => {
  it('an agent client ignores MANDATE_API_TOKEN: bearer calls carry the token its own credential obtained', async () => {
    await withEnv({ MANDATE_API_TOKEN: ADMIN_TOKEN }, async () => {
      const { client, sent } = recordingClient({ baseURL: BASE, clientId: 'agt_bot', clientSecret: 'mdt_sk_bot' });
      const api = nock(BASE);
      api.post('/oauth2/token', 'grant_type=client_credentials').matchHeader('authorization', basic('agt_bot', 'mdt_sk_bot')).reply(200, tokenReply('at_bot'));
      api.post('/v1/agents').matchHeader('authorization', 'Bearer at_bot').reply(201, agent('agt_new'));
      api.get('/v1/agents/agt_bot').matchHeader('authorization', 'Bearer at_bot').reply(200, agent('agt_bot'));
      await client.agents.create({ name: 'x', agentType: 'autonomous' });
      await client.agents.get('agt_bot');
      expect(sent).toEqual([basic('agt_bot', 'mdt_sk_bot'), 'Bearer at_bot', 'Bearer at_bot']);
      expect(sent.join(' ')).not.toContain(ADMIN_TOKEN);
    });
  });

  it('an admin-token client ignores MANDATE_CLIENT_ID and MANDATE_CLIENT_SECRET', async () => {
    await withEnv({ MANDATE_CLIENT_ID: 'agt_env', MANDATE_CLIENT_SECRET: 'mdt_sk_env' }, async () => {
      const { client, sent } = recordingClient({ baseURL: BASE, apiToken: 'mdt_pat_explicit' });
      const api = nock(BASE);
      api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer mdt_pat_explicit').reply(200, agent('agt_1'));
      api.post('/oauth2/token', 'grant_type=client_credentials').matchHeader('authorization', absent).reply(401, { error: 'invalid_client' });
      await client.agents.get('agt_1');
      await expect(client.oauth.issueToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
      expect(sent).toEqual(['Bearer mdt_pat_explicit', null]);
    });
  });

  it('an explicit empty apiToken keeps every credential in the environment out', async () => {
    const env = { MANDATE_API_TOKEN: ADMIN_TOKEN, MANDATE_CLIENT_ID: 'agt_env', MANDATE_CLIENT_SECRET: 'mdt_sk_env' };
    await withEnv(env, async () => {
      const { client, sent } = recordingClient({ baseURL: BASE, apiToken: '' });
      const api = nock(BASE);
      api.get('/v1/agents/agt_1').matchHeader('authorization', absent).reply(401, { code: 'UNAUTHENTICATED' });
      api.post('/oauth2/token').matchHeader('authorization', absent).reply(401, { error: 'invalid_client' });
      await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status: 401 });
      await expect(client.oauth.issueToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ status: 401 });
      expect(sent).toEqual([null, null]);
    });
  });

  it('half a credential in the options is not completed from the environment', async () => {
    await withEnv({ MANDATE_CLIENT_SECRET: 'mdt_sk_env' }, () => {
      expect(() => new Mandate({ baseURL: BASE, clientId: 'agt_bot' })).toThrow(MandateError);
      return Promise.resolve();
    });
  });

  it('a client given no credential takes them all from the environment', async () => {
    const env = { MANDATE_CLIENT_ID: 'agt_env', MANDATE_CLIENT_SECRET: 'mdt_sk_env', MANDATE_SCOPE: 'agents:read' };
    await withEnv(env, async () => {
      const { client, sent } = recordingClient({ baseURL: BASE });
      const api = nock(BASE);
      api.post('/oauth2/token', 'grant_type=client_credentials&scope=agents%3Aread').reply(200, tokenReply('at_env'));
      api.get('/v1/agents/agt_env').matchHeader('authorization', 'Bearer at_env').reply(200, agent('agt_env'));
      await client.agents.get('agt_env');
      expect(sent).toEqual([basic('agt_env', 'mdt_sk_env'), 'Bearer at_env']);
    });
    await withEnv({ MANDATE_API_TOKEN: ADMIN_TOKEN }, async () => {
      const { client, sent } = recordingClient({ baseURL: BASE });
      nock(BASE).get('/v1/agents/agt_1').reply(200, agent('agt_1'));
      await client.agents.get('agt_1');
      expect(sent).toEqual([`Bearer ${ADMIN_TOKEN}`]);
    });
  });

  it('MANDATE_BASE_URL, MANDATE_ORGANIZATION and MANDATE_SCOPE still apply beside explicit credentials', async () => {
    const env = { MANDATE_BASE_URL: 'http://env.test/', MANDATE_ORGANIZATION: 'org_env', MANDATE_SCOPE: 'agents:read', MANDATE_API_TOKEN: ADMIN_TOKEN };
    await withEnv(env, async () => {
      const { client, sent } = recordingClient({ clientId: 'agt_bot', clientSecret: 'mdt_sk_bot' });
      const api = nock('http://env.test');
      api.post('/oauth2/token', 'grant_type=client_credentials&scope=agents%3Aread').reply(200, tokenReply('at_bot'));
      api.get('/v1/agents/agt_bot').matchHeader('mandate-organization', 'org_env').reply(200, agent('agt_bot'));
      await client.agents.get('agt_bot');
      expect(client.baseURL).toBe('http://env.test');
      expect(sent).toEqual([basic('agt_bot', 'mdt_sk_bot'), 'Bearer at_bot']);
    });
  });

  it('an explicit baseURL, organization and scope win over their variables one by one', async () => {
    await withEnv({ MANDATE_BASE_URL: 'http://env.test', MANDATE_ORGANIZATION: 'org_env', MANDATE_SCOPE: 'audit:read' }, async () => {
      const { client } = recordingClient({ baseURL: BASE, organization: 'org_mine', scope: 'agents:read', clientId: 'agt_bot', clientSecret: 'mdt_sk_bot' });
      const api = nock(BASE);
      api.post('/oauth2/token', 'grant_type=client_credentials&scope=agents%3Aread').reply(200, tokenReply('at_bot'));
      api.get('/v1/agents/agt_bot').matchHeader('mandate-organization', 'org_mine').reply(200, agent('agt_bot'));
      await client.agents.get('agt_bot');
    });
  });
});
