import { stringify } from 'csv-stringify/sync';
import type { CompliancePolicy } from '../../domain/compliance';
import { complianceReport, findingRows } from '../../domain/compliance';
import { ApiError } from '../../domain/errors';
import { type Handler, orgOf } from '../handler';

export interface ComplianceSettings {
  policy: Omit<CompliancePolicy, 'expiringWithinDays'>;
  keyEncryptionKey: 'configured' | 'embedded';
}

const CSV = 'text/csv';

/** The Compliance tag: the report, as JSON or, for auditors' spreadsheets, CSV. */
export function complianceHandlers(settings: ComplianceSettings): Record<string, Handler> {
  return {
    async getComplianceReport(call) {
      const format = call.accepts('application/json', CSV);
      if (format === false) throw new ApiError(406, 'NOT_ACCEPTABLE', 'Not acceptable', 'This operation answers with application/json or text/csv.');
      const policy = { ...settings.policy, expiringWithinDays: Number(call.query.expiringWithinDays ?? 30) };
      const report = await complianceReport(call.sql, orgOf(call), policy, settings.keyEncryptionKey);
      if (format !== CSV) return { status: 200, body: report };
      // csv-stringify quotes what needs quoting (commas, quotes, line breaks in details).
      const body = stringify([['check', 'severity', 'id', 'detail'], ...findingRows(report)]);
      const filename = `compliance-${report.orgId}-${report.generatedAt.slice(0, 10)}.csv`;
      return { status: 200, type: 'text/csv; charset=utf-8', body, headers: { 'Content-Disposition': `attachment; filename="${filename}"` } };
    },
  };
}
