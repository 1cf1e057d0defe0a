import type { Sql } from '../store/database';
import { complianceStore } from '../store/compliance';
import { verifyChain } from './audit';

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface Finding {
  check: string;
  severity: Severity;
  detail: string;
  ids: string[];
}

/** The thresholds findings are judged by: the server's settings and the request's window. */
export interface CompliancePolicy {
  credentialMaxAgeDays: number;
  signingKeyMaxAgeDays: number;
  adminTokenUnusedDays: number;
  expiringWithinDays: number;
}

export interface ComplianceReport {
  orgId: string;
  generatedAt: string;
  policy: CompliancePolicy;
  auditChain: { intact: boolean; eventsChecked: number; firstBrokenEventId: string | null; lastVerifiedEventId: string | null };
  encryptionAtRest: { keyEncryptionKey: 'configured' | 'embedded'; rowLevelSecurity: boolean };
  findings: Finding[];
}

const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low'];

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** A finding when there are ids to report, else nothing. */
function found(check: string, severity: Severity, ids: string[], detail: (n: number) => string): Finding[] {
  return ids.length === 0 ? [] : [{ check, severity, detail: detail(ids.length), ids }];
}

/**
 * What an auditor asks of one organization, at one moment: each check a query, each finding
 * with its severity and the ids involved, most severe first. Read-only.
 */
export async function complianceReport(sql: Sql, orgId: string, policy: CompliancePolicy, keyEncryptionKey: 'configured' | 'embedded'): Promise<ComplianceReport> {
  const chain = await verifyChain(sql, orgId);
  const unprotectedTables = await complianceStore.tablesWithoutRowLevelSecurity(sql);
  const findings: Finding[] = [
    ...(chain.intact
      ? []
      : [{ check: 'audit_chain_broken', severity: 'critical' as const, detail: `The audit chain does not verify: ${chain.reason ?? 'unknown'}.`, ids: chain.firstBrokenEventId === null ? [] : [chain.firstBrokenEventId] }]),
    ...found('row_level_security_off', 'critical', unprotectedTables, (n) => `${count(n, 'table', 'tables')} holding organizations' rows without row-level security.`),
    ...(keyEncryptionKey === 'configured'
      ? []
      : [{ check: 'key_encryption_key_embedded', severity: 'medium' as const, detail: 'Stored secrets are sealed with a key generated beside the data of the embedded store; set MANDATE_KEY_ENCRYPTION_KEY to keep them apart.', ids: [] }]),
    ...found('signing_key_rotation_overdue', 'high', await complianceStore.signingKeysOlderThan(sql, policy.signingKeyMaxAgeDays), (n) => `${count(n, 'signing key', 'signing keys')} in use for more than ${policy.signingKeyMaxAgeDays} days.`),
    ...found('suspended_agent_with_live_credentials', 'medium', await complianceStore.suspendedAgentsWithLiveCredentials(sql, orgId), (n) => `${count(n, 'suspended agent holds', 'suspended agents hold')} credentials that are neither revoked nor expired.`),
    ...found('credential_expiring', 'medium', await complianceStore.expiringCredentials(sql, orgId, policy.expiringWithinDays), (n) => `${count(n, 'credential expires', 'credentials expire')} within ${policy.expiringWithinDays} days.`),
    ...found('credential_rotation_overdue', 'medium', await complianceStore.credentialsOlderThan(sql, orgId, policy.credentialMaxAgeDays), (n) => `${count(n, 'credential is', 'credentials are')} older than ${policy.credentialMaxAgeDays} days.`),
    ...found('webhook_failing', 'medium', await complianceStore.failingWebhooks(sql, orgId), (n) => `${count(n, 'webhook is', 'webhooks are')} failing or switched off for failing.`),
    ...found('admin_token_unused', 'medium', await complianceStore.unusedAdminTokens(sql, orgId, policy.adminTokenUnusedDays), (n) => `${count(n, 'admin token has', 'admin tokens have')} not been used for ${policy.adminTokenUnusedDays} days.`),
    ...found('credential_expired', 'low', await complianceStore.expiredCredentials(sql, orgId), (n) => `${count(n, 'expired credential was', 'expired credentials were')} never revoked.`),
    ...found('agent_without_owner', 'low', await complianceStore.agentsWithoutOwner(sql, orgId), (n) => `${count(n, 'agent has', 'agents have')} no owner.`),
  ];
  findings.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  return {
    orgId,
    generatedAt: new Date().toISOString(),
    policy,
    auditChain: { intact: chain.intact, eventsChecked: chain.eventsChecked, firstBrokenEventId: chain.firstBrokenEventId, lastVerifiedEventId: chain.lastVerifiedEventId },
    encryptionAtRest: { keyEncryptionKey, rowLevelSecurity: unprotectedTables.length === 0 },
    findings,
  };
}

/** The findings as rows for a CSV: one per id (one without an id for a finding that has none). */
export function findingRows(report: ComplianceReport): string[][] {
  return report.findings.flatMap((finding) => (finding.ids.length === 0 ? [''] : finding.ids).map((id) => [finding.check, finding.severity, id, finding.detail]));
}
