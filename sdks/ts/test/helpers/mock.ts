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
