import type { Logger } from '../../src/index';
import { agent, mockClient } from '../helpers/mock';

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const record = (message: string, ...details: unknown[]): void => {
    lines.push([message, ...details.map((d) => JSON.stringify(d))].join(' '));
  };
  return { logger: { debug: record, info: record, warn: record, error: record }, lines };
}

describe('debug logging', () => {
  const secrets = ['mdt_sk_supersecret', 'tok-abcdef', 'mdt_pat_admin'];

  it('logs each attempt and retry, and never a secret, token or body', async () => {
    const { logger, lines } = capture();
    const { client, api } = mockClient({ apiToken: undefined, clientId: 'agt_bot', clientSecret: 'mdt_sk_supersecret', logLevel: 'debug', logger });
    api.post('/oauth2/token').reply(200, { access_token: 'tok-abcdef', token_type: 'Bearer', expires_in: 3600 });
    api.post('/v1/agents').reply(503, '');
    api.post('/v1/agents').reply(201, { ...agent('agt_1'), secret: 'mdt_sk_supersecret' }, { 'x-request-id': 'req_42' });
    await client.agents.create({ name: 'a', agentType: 'autonomous', metadata: { note: 'mdt_pat_admin' } });
    const output = lines.join('\n');
    expect(output).toContain('POST /v1/agents -> 503');
    expect(output).toContain('retrying POST /v1/agents in 500 ms (status 503; retry 1 of 2)');
    expect(output).toContain('"requestId":"req_42"');
    expect(output).toContain('obtained an access token');
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/authorization|Basic |Bearer /i);
  });

  it('is silent below warn by default, and MANDATE_LOG=debug turns it on', async () => {
    const quiet = capture();
    const first = mockClient({ logger: quiet.logger });
    first.api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await first.client.agents.get('agt_1');
    expect(quiet.lines).toEqual([]);

    process.env.MANDATE_LOG = 'debug';
    try {
      const loud = capture();
      const second = mockClient({ logger: loud.logger });
      second.api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
      await second.client.agents.get('agt_1');
      expect(loud.lines.join('\n')).toContain('GET /v1/agents/{agentId} -> 200');
    } finally {
      delete process.env.MANDATE_LOG;
    }
  });
});
