import type { Api, Body } from './api';

let counter = 0;
/** A name unique within the run, so test files can share one database. */
export const unique = (base: string): string => `${base}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

export interface OrgFixture {
  orgId: string;
  admin: string;
  writer: string;
  reader: string;
}

/** An organization with one admin token of each role. */
export async function createOrg(root: Api): Promise<OrgFixture> {
  const org = await root.call('createOrg', { body: { name: unique('org') } });
  if (org.status !== 201) throw new Error(`createOrg failed: ${org.text}`);
  const orgId = org.body.id as string;
  const mint = async (role: string): Promise<string> => {
    const token = await root.call('createAdminToken', { path: { orgId }, body: { role, label: `${role}-token` } });
    if (token.status !== 201) throw new Error(`createAdminToken failed: ${token.text}`);
    return token.body.token as string;
  };
  return { orgId, admin: await mint('admin'), writer: await mint('writer'), reader: await mint('reader') };
}

export async function createAgent(api: Api, overrides: Record<string, unknown> = {}): Promise<Body> {
  const agent = await api.call('createAgent', { body: { name: unique('agent'), agentType: 'tool', ...overrides } });
  if (agent.status !== 201) throw new Error(`createAgent failed: ${agent.text}`);
  return agent.body;
}
