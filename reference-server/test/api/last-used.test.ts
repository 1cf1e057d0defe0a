import { describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { createAgent, createOrg } from '../helpers/fixtures';
import { tokenFor } from '../helpers/oauth';
import { startServer } from '../helpers/server';

// "Last used" is written off the request path, once a second for the ids used meanwhile
// (src/domain/use-recorder.ts): it must still reach the database on either store.
describe.each(['postgres', 'embedded'] as const)('last-used times on the %s store', (store) => {
  it('are recorded for a credential within a few seconds of its use', async () => {
    const server = await startServer(store);
    try {
      const org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
      const api = new Api(server.baseUrl, org.admin);
      const agent = await createAgent(api);
      const credential = (await api.call('createCredential', { path: { agentId: agent.id }, body: {} })).body;
      const path = { agentId: agent.id as string, credentialId: credential.id as string };
      const lastUsed = async (): Promise<unknown> => (await api.call('getCredential', { path })).body.lastUsedAt;
      expect(await lastUsed()).toBeNull();
      await tokenFor(server.baseUrl, { clientId: credential.clientId as string, secret: credential.secret as string });
      const deadline = Date.now() + 5000;
      while ((await lastUsed()) === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const recorded = await lastUsed();
      expect(typeof recorded).toBe('string');
      expect(Math.abs(Date.parse(recorded as string) - Date.now())).toBeLessThan(10_000);
    } finally {
      await server.close();
    }
  });
});
