import { APIConnectionError, ConflictError, InternalServerError, RateLimitError } from '../../src/index';
import { FakeClock } from '../helpers/fake-clock';
import { agent, mockClient, problem } from '../helpers/mock';

describe('retries', () => {
  it('retries 5xx with exponential backoff, then succeeds', async () => {
    const { client, clock, api } = mockClient();
    api.get('/v1/agents/agt_1').times(2).reply(503, problem(503, 'UNAVAILABLE'));
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await expect(client.agents.get('agt_1')).resolves.toMatchObject({ id: 'agt_1' });
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('gives up after maxRetries more attempts with the last error', async () => {
    const { client, clock, api } = mockClient({ maxRetries: 3 });
    api.get('/v1/agents/agt_1').times(4).reply(500, problem(500, 'INTERNAL'));
    await expect(client.agents.get('agt_1')).rejects.toBeInstanceOf(InternalServerError);
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
  });

  it('caps the backoff at 8 s and subtracts up to 25 % jitter', async () => {
    const { client, clock, api } = mockClient({ maxRetries: 6, clock: new FakeClock(undefined, 1) });
    api.get('/v1/agents/agt_1').times(6).reply(502, '');
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    expect(clock.sleeps).toEqual([375, 750, 1500, 3000, 6000, 6000]);
  });

  it.each([408, 409, 429])('retries %i', async (status) => {
    const { client, clock, api } = mockClient();
    api.get('/v1/agents/agt_1').reply(status, problem(status, 'BUSY'));
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    expect(clock.sleeps).toHaveLength(1);
  });

  it.each([400, 401, 403, 404, 422])('does not retry %i', async (status) => {
    const { client, clock, api } = mockClient();
    api.get('/v1/agents/agt_1').once().reply(status, problem(status, 'NO'));
    await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status });
    expect(clock.sleeps).toEqual([]);
  });

  it('honours Retry-After in seconds, as an HTTP date, and retry-after-ms', async () => {
    const { client, clock, api } = mockClient({ maxRetries: 3 });
    const inFiveSeconds = new Date(clock.now() + 5_000).toUTCString();
    api.get('/v1/agents/agt_1').reply(429, problem(429, 'RATE_LIMITED'), { 'Retry-After': '3' });
    api.get('/v1/agents/agt_1').reply(429, problem(429, 'RATE_LIMITED'), { 'Retry-After': inFiveSeconds });
    api.get('/v1/agents/agt_1').reply(503, '', { 'retry-after-ms': '250' });
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    // The date was five seconds ahead when the test began; the first retry waited three.
    expect(clock.sleeps).toEqual([3000, 2000, 250]);
  });

  it('ignores a Retry-After beyond 60 s and backs off instead', async () => {
    const { client, clock, api } = mockClient();
    api.get('/v1/agents/agt_1').reply(429, problem(429, 'RATE_LIMITED'), { 'Retry-After': '3600' });
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    expect(clock.sleeps).toEqual([500]);
  });

  it('the last 429 surfaces as a RateLimitError, a 409 as a ConflictError', async () => {
    const { client, api } = mockClient({ maxRetries: 0 });
    api.get('/v1/agents/agt_1').reply(429, problem(429, 'RATE_LIMITED'));
    await expect(client.agents.get('agt_1')).rejects.toBeInstanceOf(RateLimitError);
    api.post('/v1/agents').reply(409, problem(409, 'AGENT_NAME_TAKEN'));
    await expect(client.agents.create({ name: 'a', agentType: 'autonomous' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('retries connection errors, then reports an APIConnectionError', async () => {
    const { client, clock, api } = mockClient();
    api.get('/v1/agents/agt_1').times(3).replyWithError('socket hang up');
    const failure = client.agents.get('agt_1');
    await expect(failure).rejects.toBeInstanceOf(APIConnectionError);
    await expect(failure).rejects.toThrow(/socket hang up/);
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('a per-request maxRetries overrides the client’s', async () => {
    const { client, clock, api } = mockClient({ maxRetries: 5 });
    api.get('/v1/agents/agt_1').reply(500, '');
    await expect(client.agents.get('agt_1', { maxRetries: 0 })).rejects.toBeInstanceOf(InternalServerError);
    expect(clock.sleeps).toEqual([]);
  });
});
