import nock from 'nock';
import { Mandate, MandateError } from '../../src/index';
import { absent, agent, mockClient } from '../helpers/mock';

describe('requests', () => {
  it('sends one idempotency key per logical write and the same key on its retries', async () => {
    const { client, api } = mockClient();
    const keys: string[] = [];
    const record = function (this: { req: { headers: Record<string, string> } }) {
      keys.push(this.req.headers['idempotency-key'] ?? '');
    };
    api.post('/v1/agents').reply(function () {
      record.call(this);
      return [503, ''];
    });
    api.post('/v1/agents').times(2).reply(function () {
      record.call(this);
      return [201, agent('agt_1')];
    });
    await client.agents.create({ name: 'a', agentType: 'autonomous' });
    await client.agents.create({ name: 'b', agentType: 'autonomous' });
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^sdk-[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('uses the caller’s idempotency key, and none on reads', async () => {
    const { client, api } = mockClient();
    api.post('/v1/agents').matchHeader('idempotency-key', 'mine').reply(201, agent('agt_1'));
    api.get('/v1/agents/agt_1').matchHeader('idempotency-key', absent).reply(200, agent('agt_1'));
    await client.agents.create({ name: 'a', agentType: 'autonomous' }, { idempotencyKey: 'mine' });
    await client.agents.get('agt_1');
  });

  it('sends the organization where the operation takes it; a request may override it', async () => {
    const { client, api } = mockClient({ organization: 'org_default' });
    api.get('/v1/agents/agt_1').matchHeader('mandate-organization', 'org_default').reply(200, agent('agt_1'));
    api.get('/v1/agents/agt_1').matchHeader('mandate-organization', 'org_other').reply(200, agent('agt_1'));
    api.get('/v1/orgs/org_x').matchHeader('mandate-organization', absent).reply(200, { id: 'org_x' });
    await client.agents.get('agt_1');
    await client.agents.get('agt_1', { organization: 'org_other' });
    await client.orgs.get('org_x');
  });

  it('encodes path parameters, repeats array query values and drops undefined ones', async () => {
    const { client, api } = mockClient();
    api.get('/v1/agents/a%2Fb').reply(200, agent('x'));
    api.get('/v1/agents').query({ status: 'active', limit: '5' }).reply(200, { data: [], nextCursor: null });
    await client.agents.get('a/b');
    await client.agents.list({ status: 'active', limit: 5, owner: undefined });
  });

  it('sends JSON with explicit nulls, and OAuth parameters form-encoded', async () => {
    const { client, api } = mockClient({ apiToken: undefined });
    api.patch('/v1/agents/agt_1', { description: null, version: '2' }).matchHeader('content-type', 'application/json').reply(200, agent('agt_1'));
    api
      .post('/oauth2/token', 'grant_type=client_credentials&client_id=agt_1&client_secret=s+p')
      .matchHeader('content-type', 'application/x-www-form-urlencoded')
      .matchHeader('authorization', absent)
      .reply(200, { access_token: 't', token_type: 'Bearer', expires_in: 60 });
    await client.agents.update('agt_1', { description: null, version: '2' });
    await client.oauth.issueToken({ grant_type: 'client_credentials', client_id: 'agt_1', client_secret: 's p' });
  });

  it('gives the raw response beside the parsed value', async () => {
    const { client, api } = mockClient();
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'), { 'x-request-id': 'req_1' });
    const { data, response } = await client.agents.get('agt_1').withResponse();
    expect(data.id).toBe('agt_1');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(JSON.parse(response.text)).toEqual(agent('agt_1'));
  });

  it('sends the request once however often the promise is used', async () => {
    const { client, api } = mockClient();
    api.get('/v1/agents/agt_1').once().reply(200, agent('agt_1'));
    const call = client.agents.get('agt_1');
    await call;
    await call.withResponse();
    await call.asResponse();
  });

  it('returns text bodies as strings and empty ones as undefined', async () => {
    const { client, api } = mockClient();
    api.get('/metrics').reply(200, '# HELP up 1\n', { 'content-type': 'text/plain' });
    api.delete('/v1/orgs/org_1').reply(204);
    await expect(client.service.metrics()).resolves.toBe('# HELP up 1\n');
    await expect(client.orgs.delete('org_1')).resolves.toBeUndefined();
  });

  it('reads its configuration from MANDATE_* variables', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { MANDATE_BASE_URL: 'http://env.test/', MANDATE_API_TOKEN: 'mdt_pat_env', MANDATE_ORGANIZATION: 'org_env' });
    try {
      const client = new Mandate();
      nock('http://env.test').get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer mdt_pat_env').matchHeader('mandate-organization', 'org_env').reply(200, agent('agt_1'));
      await client.agents.get('agt_1');
      expect(client.baseURL).toBe('http://env.test');
    } finally {
      process.env = saved;
    }
  });

  it('refuses half a credential and a missing path parameter', async () => {
    expect(() => new Mandate({ baseURL: 'http://x', clientId: 'agt_1' })).toThrow(MandateError);
    const { client } = mockClient();
    await expect(client.agents.get('')).rejects.toThrow('getAgent: the path parameter agentId is required');
  });
});
