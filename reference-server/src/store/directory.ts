import type { Database } from './database';
import { type PageRequest, pageParams, toPage } from './page';

/** What the directory reads of a listed agent: its public face and what its agent card needs. */
export interface DirectoryRow {
  id: string;
  name: string;
  description: string | null;
  version: string | null;
  capabilities: string[];
  metadata: Record<string, string>;
  orgName: string;
}

interface Row extends Omit<DirectoryRow, 'orgName'> {
  org_name: string;
}

const toDirectoryRow = ({ org_name: orgName, ...agent }: Row): DirectoryRow => ({ ...agent, orgName });

/** Reads across organizations, so only through mandate_directory_agents (listed, active agents of live organizations). */
export const directoryStore = {
  async list(db: Database, filters: { q?: string; capability?: string }, page: PageRequest): Promise<{ items: DirectoryRow[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await db.callFunction<Row>('SELECT * FROM mandate_directory_agents($1, $2, $3, $4, $5)', [null, filters.q ?? null, filters.capability ?? null, after, fetch]);
    return toPage(rows.map(toDirectoryRow), page);
  },

  async find(db: Database, agentId: string): Promise<DirectoryRow | null> {
    const [row] = await db.callFunction<Row>('SELECT * FROM mandate_directory_agents($1, $2, $3, $4, $5)', [agentId, null, null, '', 1]);
    return row === undefined ? null : toDirectoryRow(row);
  },
};
