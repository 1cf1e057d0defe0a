import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ClientAuthenticationFailed, ClientAuthenticator } from '../../src/domain/clients';
import { SecretHasher } from '../../src/domain/secrets';
import { UseRecorder } from '../../src/domain/use-recorder';
import { Api } from '../helpers/api';
import { TEST_PEPPER } from '../helpers/env';
import { createAgent, createOrg } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

const LOOKUP_CALL = 'SELECT * FROM mandate_find_client_credentials($1)';

let server: TestServer;
let active: { agentId: string; secret: string };
let suspended: { agentId: string; secret: string };

async function agentWithCredential(api: Api, status?: 'suspended'): Promise<{ agentId: string; secret: string }> {
  const agent = await createAgent(api);
  const credential = (await api.call('createCredential', { path: { agentId: agent.id }, body: {} })).body;
  if (status !== undefined) await api.call('updateAgent', { path: { agentId: agent.id }, body: { status } });
  return { agentId: agent.id as string, secret: credential.secret as string };
}

beforeAll(async () => {
  server = await startServer('postgres');
  const org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  const api = new Api(server.baseUrl, org.admin);
  active = await agentWithCredential(api);
  suspended = await agentWithCredential(api, 'suspended');
});
afterAll(async () => {
  await server.close();
});

/** The OAuth error an attempt ended with, or the agent it authenticated. */
async function outcome(attempt: Promise<{ agentId: string }>): Promise<string> {
  try {
    return (await attempt).agentId;
  } catch (error) {
    if (error instanceof ClientAuthenticationFailed) return error.error;
    throw error;
  }
}

describe('client authentication', () => {
  it('looks up the credentials of one event-loop turn in one call, and answers each attempt on its own', async () => {
    const uses = new UseRecorder(() => Promise.resolve(), () => undefined);
    const clients = new ClientAuthenticator(server.mandate.db, uses, new SecretHasher(TEST_PEPPER));
    const calls = jest.spyOn(server.mandate.db, 'callFunction');
    const lookups = (): number => calls.mock.calls.filter(([text]) => text === LOOKUP_CALL).length;
    // The same public part with another private part: the row is found, the secret does not match.
    const wrongSecret = active.secret.slice(0, -1) + (active.secret.endsWith('A') ? 'B' : 'A');
    try {
      const turn = [
        clients.authenticate(active.agentId, active.secret),
        clients.authenticate(active.agentId, active.secret),
        clients.authenticate(suspended.agentId, suspended.secret),
        clients.authenticate(active.agentId, wrongSecret),
        clients.authenticate(suspended.agentId, active.secret),
        clients.authenticate('agt_unknown', 'not-a-secret'),
      ];
      expect(await Promise.all(turn.map(outcome))).toEqual([active.agentId, active.agentId, 'unauthorized_client', 'invalid_client', 'invalid_client', 'invalid_client']);
      expect(lookups()).toBe(1);
      // A later turn makes a call of its own.
      expect(await outcome(clients.authenticate(active.agentId, active.secret))).toBe(active.agentId);
      expect(lookups()).toBe(2);
    } finally {
      calls.mockRestore();
      await uses.close();
    }
  });
});
