import type { Database, Sql } from './database';
import { Conditions } from './conditions';
import { type PageRequest, pageParams, toPage } from './page';

export interface AuditRecord {
  id: string;
  chain: string;
  orgId: string | null;
  sequence: number;
  action: string;
  outcome: 'success' | 'failure';
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  occurredAt: Date;
  metadata: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditFilters {
  agentId?: string;
  action?: string;
  outcome?: string;
  since?: Date;
  until?: Date;
}

/** A place in a chain: the last event's sequence and hash. */
export interface ChainPosition {
  sequence: number;
  hash: string;
}

export interface AppendResult {
  appended: boolean;
  head: ChainPosition | null;
}

/** A chain's head, and the anchor its verification starts from (after pruning). */
export interface ChainHead extends ChainPosition {
  anchorSequence: number;
  anchorHash: string;
}

const COLUMNS = `id, chain, org_id AS "orgId", sequence::float8 AS sequence, action, outcome, actor_type AS "actorType",
  actor_id AS "actorId", target_type AS "targetType", target_id AS "targetId", ip, user_agent AS "userAgent",
  request_id AS "requestId", occurred_at AS "occurredAt", metadata, prev_hash AS "prevHash", hash`;

const HEAD_COLUMNS = `sequence::float8 AS sequence, hash, anchor_sequence::float8 AS "anchorSequence", anchor_hash AS "anchorHash"`;

export const auditStore = {
  /** Locks the chain head for appending; null for a chain with no events yet. */
  async lockHead(sql: Sql, chain: string): Promise<ChainHead | null> {
    const [head] = await sql.query<ChainHead>(`SELECT ${HEAD_COLUMNS} FROM audit_chain_heads WHERE chain = $1 FOR UPDATE`, [chain]);
    return head ?? null;
  },

  async head(sql: Sql, chain: string): Promise<ChainHead | null> {
    const [head] = await sql.query<ChainHead>(`SELECT ${HEAD_COLUMNS} FROM audit_chain_heads WHERE chain = $1`, [chain]);
    return head ?? null;
  },

  /** Creates the head of a new chain; a concurrent creator makes this one wait, then lose. */
  async createHead(sql: Sql, chain: string, genesisHash: string): Promise<void> {
    await sql.query(
      `INSERT INTO audit_chain_heads (chain, sequence, hash, anchor_hash) VALUES ($1, 0, $2, $2) ON CONFLICT (chain) DO NOTHING`,
      [chain, genesisHash],
    );
  },

  async moveHead(sql: Sql, chain: string, sequence: number, hash: string): Promise<void> {
    await sql.query('UPDATE audit_chain_heads SET sequence = $2, hash = $3 WHERE chain = $1', [chain, sequence, hash]);
  },

  /** Inserts events in one statement: a group commit's batch costs one round trip per chain. */
  async insertMany(sql: Sql, events: AuditRecord[]): Promise<void> {
    if (events.length === 0) return;
    const columns = 17;
    const rows = events.map((_, row) => `(${Array.from({ length: columns }, (__, column) => `$${row * columns + column + 1}`).join(', ')})`);
    const params = events.flatMap((event) => [
      event.id, event.chain, event.orgId, event.sequence, event.action, event.outcome, event.actorType, event.actorId,
      event.targetType, event.targetId, event.ip, event.userAgent, event.requestId, event.occurredAt,
      JSON.stringify(event.metadata), event.prevHash, event.hash,
    ]);
    await sql.query(
      `INSERT INTO audit_events (id, chain, org_id, sequence, action, outcome, actor_type, actor_id, target_type,
         target_id, ip, user_agent, request_id, occurred_at, metadata, prev_hash, hash)
       VALUES ${rows.join(', ')}`,
      params,
    );
  },

  /**
   * Appends each chain's events if its head is still `after` (compare-and-set), all chains in
   * one autocommitted call. Tells per chain whether it appended, and where its head is now
   * (null for a chain that has none yet); a chain not appended to is left untouched.
   */
  async appendAfterHeads(db: Database, groups: { chain: string; after: ChainPosition; events: AuditRecord[] }[]): Promise<Map<string, AppendResult>> {
    // Events go as they are: their JSON names are the function's record columns.
    const payload = groups.map(({ chain, after, events }) => ({ chain, afterSequence: after.sequence, afterHash: after.hash, events }));
    const rows = await db.callFunction<{ chain: string; appended: boolean; head_sequence: string | number | bigint | null; head_hash: string | null }>(
      'SELECT * FROM mandate_append_audit_events($1)',
      [JSON.stringify(payload)],
    );
    return new Map(
      rows.map((row) => [
        row.chain,
        {
          appended: row.appended,
          head: row.head_sequence === null || row.head_hash === null ? null : { sequence: Number(row.head_sequence), hash: row.head_hash },
        },
      ]),
    );
  },

  /** Events by id across chains, for the webhook worker (which runs as the owner). */
  async byIds(sql: Sql, ids: string[]): Promise<AuditRecord[]> {
    return sql.query<AuditRecord>(`SELECT ${COLUMNS} FROM audit_events WHERE id = ANY($1)`, [ids]);
  },

  async find(sql: Sql, chain: string, id: string): Promise<AuditRecord | null> {
    const [row] = await sql.query<AuditRecord>(`SELECT ${COLUMNS} FROM audit_events WHERE chain = $1 AND id = $2`, [chain, id]);
    return row ?? null;
  },

  /** Events in chain order (event ids are time-ordered, and sequence follows commit order). */
  async list(sql: Sql, chain: string, filters: AuditFilters, page: PageRequest): Promise<{ items: AuditRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const where = new Conditions()
      .add('chain = ?', chain)
      // chain is $1, the first value added.
      .addIf('sequence > (SELECT sequence FROM audit_events WHERE chain = $1 AND id = ?)', after === '' ? undefined : after)
      .addIf(`((target_type = 'agent' AND target_id = ?) OR (actor_type = 'agent' AND actor_id = ?))`, filters.agentId)
      .addIf('action = ?', filters.action)
      .addIf('outcome = ?', filters.outcome)
      .addIf('occurred_at >= ?', filters.since)
      .addIf('occurred_at < ?', filters.until);
    const rows = await sql.query<AuditRecord>(
      `SELECT ${COLUMNS} FROM audit_events WHERE ${where.sql()} ORDER BY sequence LIMIT ${where.param(fetch)}`,
      where.params,
    );
    return toPage(rows, page);
  },

  /** A slice of the chain for verification. */
  async slice(sql: Sql, chain: string, afterSequence: number, limit: number): Promise<AuditRecord[]> {
    return sql.query<AuditRecord>(
      `SELECT ${COLUMNS} FROM audit_events WHERE chain = $1 AND sequence > $2 ORDER BY sequence LIMIT $3`,
      [chain, afterSequence, limit],
    );
  },

  async chainsWithEventsBefore(sql: Sql, cutoff: Date): Promise<string[]> {
    const rows = await sql.query<{ chain: string }>('SELECT DISTINCT chain FROM audit_events WHERE occurred_at < $1', [cutoff]);
    return rows.map((r) => r.chain);
  },

  /** The oldest events of a chain, up to the cutoff, for export before pruning. */
  async oldest(sql: Sql, chain: string, cutoff: Date): Promise<AuditRecord[]> {
    return sql.query<AuditRecord>(
      `SELECT ${COLUMNS} FROM audit_events WHERE chain = $1
         AND sequence <= (SELECT max(sequence) FROM audit_events WHERE chain = $1 AND occurred_at < $2)
       ORDER BY sequence`,
      [chain, cutoff],
    );
  },

  /** Removes exported events and moves the chain's anchor past them (owner only). */
  async prune(sql: Sql, chain: string, throughSequence: number, anchorHash: string): Promise<void> {
    await sql.query('DELETE FROM audit_events WHERE chain = $1 AND sequence <= $2', [chain, throughSequence]);
    await sql.query('UPDATE audit_chain_heads SET anchor_sequence = $2, anchor_hash = $3 WHERE chain = $1', [chain, throughSequence, anchorHash]);
  },
};
