import nock from 'nock';
import { Mandate } from '../../src/index';
import type { ClientOptions } from '../../src/index';
import { FakeClock } from './fake-clock';

export const BASE = 'http://mandate.test';

/** A client against the nock host with a fake clock; no environment defaults leak in. */
export function mockClient(options: ClientOptions = {}): { client: Mandate; clock: FakeClock; api: nock.Scope } {
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const client = new Mandate({ baseURL: BASE, apiToken: 'mdt_pat_test', clock, ...options });
  return { client, clock, api: nock(BASE) };
}

export const problem = (status: number, code: string) => ({
  type: `https://mandate.dev/problems/${code.toLowerCase()}`,
  title: code,
  status,
  code,
  requestId: 'req_body',
});

export const agent = (id: string) => ({ id, name: id, agentType: 'autonomous', status: 'active' });

/** For `matchHeader`: the request must not carry the header. */
export const absent = (value: string | undefined): boolean => value === undefined;

/**
 * Records each form posted to `path` and answers it with `reply(n)` for the nth; by default
 * the requests must carry no Authorization header.
 */
export function captureForms(
  api: nock.Scope,
  path: string,
  times: number,
  reply: (n: number) => [number, object],
  authorization: string | ((value: string | undefined) => boolean) = absent,
): Record<string, string>[] {
  const forms: Record<string, string>[] = [];
  api
    .post(path, (body: unknown) => {
      forms.push(typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>));
      return true;
    })
    .matchHeader('authorization', authorization)
    .times(times)
    .reply(() => reply(forms.length - 1));
  return forms;
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  if (pending.length > 0) throw new Error(`nock interceptors not used: ${pending.join(', ')}`);
});
afterAll(() => {
  nock.enableNetConnect();
});
