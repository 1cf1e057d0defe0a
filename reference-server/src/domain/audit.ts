import { createHash } from 'node:crypto';
import type { Sql } from '../store/database';
import { type AuditRecord, auditStore } from '../store/audit';
import { canonicalJson } from './canonical-json';
import { newId } from './ids';
import { storableJson, storableText } from './text';

const nullableText = (text: string | null): string | null => (text === null ? null : storableText(text));

export const INSTANCE_CHAIN = 'instance';
/** The "previous hash" of a chain's first event. */
export const GENESIS_HASH = '0'.repeat(64);

export type ActorType = 'admin_token' | 'agent' | 'anonymous' | 'system';

/** What a caller says about an event; sequence, time and hashes are added on append. */
export interface AuditEntry {
  orgId: string | null;
  action: string;
  outcome: 'success' | 'failure';
  actor: { type: ActorType; id: string | null };
  target: { type: string; id: string } | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata?: Record<string, unknown>;
}

/** A change the server made by itself (a command, a background worker): no request behind it. */
export function systemEvent(
  orgId: string | null,
  action: string,
  by: string,
  target: { type: string; id: string },
  metadata: Record<string, unknown>,
): AuditEntry {
  return { orgId, action, outcome: 'success', actor: { type: 'system', id: by }, target, ip: null, userAgent: null, requestId: null, metadata };
}

/** Where a request came from, as the audit trail records it. */
export type RequestInfo = Pick<AuditEntry, 'ip' | 'userAgent' | 'requestId'>;

/** SHA-256 over the previous hash and every field of the event except its own hash. */
export function eventHash(event: Omit<AuditRecord, 'hash'>): string {
  const fields = [
    event.id, event.chain, event.orgId, event.sequence, event.action, event.outcome, event.actorType, event.actorId,
    event.targetType, event.targetId, event.ip, event.userAgent, event.requestId, event.occurredAt.toISOString(),
  ];
  // The canonical form of [...fields, metadata]: the fields are strings, numbers and nulls.
  const content = `${JSON.stringify(fields).slice(0, -1)},${canonicalJson(event.metadata)}]`;
  return createHash('sha256').update(`${event.prevHash}\n${content}`).digest('hex');
}

export const chainOf = (orgId: string | null): string => orgId ?? INSTANCE_CHAIN;

/**
 * Appends events inside the caller's transaction, in order. Each chain's head row is
 * locked while its events are added, so concurrent appends to one chain serialize and
 * the sequence has no gaps. Row-level security is pointed at each chain in turn, and each
 * chain's events go in with one statement.
 */
export async function appendEvents(sql: Sql, entries: AuditEntry[]): Promise<AuditRecord[]> {
  const appended: AuditRecord[] = [];
  for (const group of groupByChain(entries)) {
    const chain = chainOf(group[0]?.orgId ?? null);
    await sql.query(`SELECT set_config('mandate.org_id', $1, true)`, [group[0]?.orgId ?? '']);
    let head = await auditStore.lockHead(sql, chain);
    if (head === null) {
      await auditStore.createHead(sql, chain, GENESIS_HASH);
      head = await auditStore.lockHead(sql, chain);
    }
    if (head === null) throw new Error(`No head for audit chain ${chain}`);
    const events = sealAll(group, chain, head);
    await auditStore.insertMany(sql, events);
    const last = events[events.length - 1] ?? head;
    await auditStore.moveHead(sql, chain, last.sequence, last.hash);
    appended.push(...events);
  }
  return appended;
}

/** Consecutive runs of entries on the same chain, in order. */
function groupByChain(entries: AuditEntry[]): AuditEntry[][] {
  const groups: AuditEntry[][] = [];
  for (const entry of entries) {
    const last = groups[groups.length - 1];
    if (last !== undefined && chainOf(last[0]?.orgId ?? null) === chainOf(entry.orgId)) last.push(entry);
    else groups.push([entry]);
  }
  return groups;
}

/** Entries of one chain as stored, numbered on from `after` and each hashed over the previous. */
export function sealAll(entries: AuditEntry[], chain: string, after: { sequence: number; hash: string }): AuditRecord[] {
  let previous = after;
  return entries.map((entry) => {
    const event = sealed(entry, chain, previous);
    previous = event;
    return event;
  });
}

/** The event as stored: numbered after, and hashed over, the previous one. */
function sealed(entry: AuditEntry, chain: string, previous: { sequence: number; hash: string }): AuditRecord {
  const record: Omit<AuditRecord, 'hash'> = {
    id: newId('evt'),
    chain,
    orgId: entry.orgId,
    sequence: previous.sequence + 1,
    action: entry.action,
    outcome: entry.outcome,
    actorType: entry.actor.type,
    // What a caller sent is recorded as sent, except what PostgreSQL cannot store, which is
    // escaped: an attempt with a NUL in its client id is audited like any other.
    actorId: nullableText(entry.actor.id),
    targetType: entry.target?.type ?? null,
    targetId: nullableText(entry.target?.id ?? null),
    ip: entry.ip,
    userAgent: nullableText(entry.userAgent?.slice(0, 500) ?? null),
    requestId: entry.requestId,
    occurredAt: new Date(),
    metadata: storableJson(entry.metadata ?? {}) as Record<string, unknown>,
    prevHash: previous.hash,
  };
  return { ...record, hash: eventHash(record) };
}

export interface ChainVerification {
  intact: boolean;
  eventsChecked: number;
  firstBrokenEventId: string | null;
  reason: string | null;
  /** The last event whose hash and link were verified (null when none was). */
  lastVerifiedEventId: string | null;
}

const VERIFY_PAGE = 1000;

/** Walks a chain from its anchor, recomputing every hash and link. */
export async function verifyChain(sql: Sql, chain: string): Promise<ChainVerification> {
  const head = await auditStore.head(sql, chain);
  if (head === null) return { intact: true, eventsChecked: 0, firstBrokenEventId: null, reason: null, lastVerifiedEventId: null };
  let expectedSequence = head.anchorSequence + 1;
  let previousHash = head.anchorHash;
  let checked = 0;
  let lastVerifiedEventId: string | null = null;
  const broken = (event: AuditRecord, reason: string): ChainVerification => ({ intact: false, eventsChecked: checked, firstBrokenEventId: event.id, reason, lastVerifiedEventId });
  for (;;) {
    const events = await auditStore.slice(sql, chain, expectedSequence - 1, VERIFY_PAGE);
    if (events.length === 0) break;
    for (const event of events) {
      checked += 1;
      if (event.sequence !== expectedSequence) return broken(event, `sequence ${expectedSequence} is missing`);
      if (event.prevHash !== previousHash) return broken(event, "does not link to the previous event's hash");
      const { hash, ...content } = event;
      if (eventHash(content) !== hash) return broken(event, "hash does not match the event's content");
      previousHash = hash;
      lastVerifiedEventId = event.id;
      expectedSequence += 1;
    }
  }
  if (expectedSequence - 1 !== head.sequence || previousHash !== head.hash) {
    return { intact: false, eventsChecked: checked, firstBrokenEventId: null, reason: `events after sequence ${expectedSequence - 1} are missing`, lastVerifiedEventId };
  }
  return { intact: true, eventsChecked: checked, firstBrokenEventId: null, reason: null, lastVerifiedEventId };
}
