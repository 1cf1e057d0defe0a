import {
  APIError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from '../../src/index';
import { agent, mockClient, problem } from '../helpers/mock';

describe('errors', () => {
  it.each([
    [400, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ConflictError],
    [413, BadRequestError],
    [415, BadRequestError],
    [422, BadRequestError],
    [429, RateLimitError],
    [500, InternalServerError],
    [503, InternalServerError],
    [418, APIError],
  ])('maps %i to %p with status, code, request id, headers and body', async (status, ErrorClass) => {
    const { client, api } = mockClient({ maxRetries: 0 });
    const body = problem(status, 'SOME_CODE');
    api.get('/v1/agents/agt_1').reply(status, body, { 'content-type': 'application/problem+json', 'x-request-id': 'req_header' });
    const error: unknown = await client.agents.get('agt_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ status, code: 'SOME_CODE', requestId: 'req_header', body });
    expect((error as APIError).headers.get('content-type')).toBe('application/problem+json');
    expect((error as APIError).message).toBe(`${status} SOME_CODE SOME_CODE`);
  });

  it('takes the OAuth error as the code, and a non-JSON body as text', async () => {
    const { client, api } = mockClient({ maxRetries: 0 });
    api.post('/oauth2/token').reply(400, { error: 'invalid_scope', error_description: 'no' }, { 'content-type': 'application/json' });
    await expect(client.oauth.issueToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({
      code: 'invalid_scope',
      message: '400 invalid_scope no',
    });
    api.get('/v1/agents/agt_1').reply(502, '<html>bad gateway</html>', { 'content-type': 'text/html' });
    await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status: 502, body: '<html>bad gateway</html>', code: undefined });
  });

  it('times out an attempt, retries it, then reports an APITimeoutError', async () => {
    const { client, clock, api } = mockClient({ timeout: 50, maxRetries: 1 });
    api.get('/v1/agents/agt_1').times(2).delay(1_000).reply(200, agent('agt_1'));
    await expect(client.agents.get('agt_1')).rejects.toBeInstanceOf(APITimeoutError);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('a per-request timeout overrides the client’s', async () => {
    const { client, api } = mockClient({ timeout: 10, maxRetries: 0 });
    api.get('/v1/agents/agt_1').delay(100).reply(200, agent('agt_1'));
    await expect(client.agents.get('agt_1', { timeout: 2_000 })).resolves.toMatchObject({ id: 'agt_1' });
  });
});

describe('pagination', () => {
  function threePages() {
    const { client, api } = mockClient();
    api.get('/v1/agents').query({ limit: '2' }).reply(200, { data: [agent('a1'), agent('a2')], nextCursor: 'c1' });
    api.get('/v1/agents').query({ limit: '2', cursor: 'c1' }).reply(200, { data: [agent('a3'), agent('a4')], nextCursor: 'c2' });
    api.get('/v1/agents').query({ limit: '2', cursor: 'c2' }).reply(200, { data: [agent('a5')], nextCursor: null });
    return client;
  }

  it('iterates every item of every page, keeping the filters', async () => {
    const ids: string[] = [];
    for await (const item of threePages().agents.list({ limit: 2 })) ids.push(item.id);
    expect(ids).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('exposes each page and fetches the next one on request', async () => {
    const first = await threePages().agents.list({ limit: 2 });
    expect(first.data.map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.nextCursor).toBe('c2');
    const third = await second.getNextPage();
    expect(third.hasNextPage()).toBe(false);
    expect(() => third.getNextPage()).toThrow(/last page/);
  });

  it('walks pages with iterPages', async () => {
    const sizes: number[] = [];
    for await (const page of (await threePages().agents.list({ limit: 2 })).iterPages()) sizes.push(page.data.length);
    expect(sizes).toEqual([2, 2, 1]);
  });
});
