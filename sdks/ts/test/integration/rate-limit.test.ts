/**
 * A real rate limit: a server allowing each caller 60 management-API calls at once, then one
 * a second, refuses the next with 429 RATE_LIMITED and `Retry-After: 1`; a client with the
 * default retries waits that second and gets through, rather than failing or backing off.
 */
import { Mandate, RateLimitError } from '../../src/index';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

let server: LiveServer;

beforeAll(async () => {
  server = await startLiveServer({ env: { MANDATE_RATE_LIMIT_API_PER_CALLER: '60' } });
}, 60_000);
afterAll(() => server.stop());

/** Spends the caller's allowance until a call is refused, and returns that refusal. */
async function spendAllowance(client: Mandate): Promise<unknown> {
  for (let call = 0; call < 70; call++) {
    try {
      await client.orgs.list();
    } catch (error) {
      return error;
    }
  }
  throw new Error('70 calls and none refused');
}

/** A fetch that keeps the status of every response. */
function recordingStatuses(): { fetch: typeof fetch; statuses: number[] } {
  const statuses: number[] = [];
  return {
    statuses,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    },
  };
}

it('a 429 carries Retry-After, and the default retry waits for it and succeeds', async () => {
  const refusal = await spendAllowance(new Mandate({ baseURL: server.baseURL, apiToken: server.token, maxRetries: 0 }));
  expect(refusal).toBeInstanceOf(RateLimitError);
  expect(refusal).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  expect((refusal as RateLimitError).headers.get('retry-after')).toBe('1');

  const recording = recordingStatuses();
  const patient = new Mandate({ baseURL: server.baseURL, apiToken: server.token, fetch: recording.fetch });
  // The next call whose first attempt is refused (the very next one, unless a slot came back
  // meanwhile) waits Retry-After, and its retry succeeds.
  let elapsed = 0;
  for (let call = 0; call < 10 && recording.statuses[0] !== 429; call++) {
    recording.statuses.length = 0;
    const started = performance.now();
    await expect(patient.orgs.list()).resolves.toBeDefined();
    elapsed = performance.now() - started;
  }
  expect(recording.statuses).toEqual([429, 200]);
  expect(elapsed).toBeGreaterThanOrEqual(800);
  expect(elapsed).toBeLessThan(5_000);
});
