import type { Command } from 'commander';
import type { Approval, ApprovalGrant, ListApprovalsParamsStatus, TrustLevel } from '@mandate/sdk';
import type { Column } from '../io/output.js';
import { collectItems, defined, limitOption, choice, pageSize, positiveInt, run, splitList } from './common.js';

const STATUSES: readonly ListApprovalsParamsStatus[] = ['pending', 'approved', 'denied', 'expired'];
const TRUST_LEVELS: readonly TrustLevel[] = ['trusted', 'unknown', 'blocked'];

const approvalColumns: Column<Approval>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'USER CODE', value: (a) => a.userCode },
  { header: 'KIND', value: (a) => a.kind },
  { header: 'NAME', value: (a) => a.name },
  { header: 'STATUS', value: (a) => a.status, status: true },
  { header: 'SCOPES', value: (a) => a.requestedScopes },
  { header: 'IMPERSONATION?', value: (a) => (a.impersonationSuspected ? 'SUSPECTED' : '') },
  { header: 'EXPIRES', value: (a) => a.expiresAt },
];

export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description("agents' device authorization requests, which a person approves or denies");

  approvals
    .command('list')
    .description('list requests, newest first')
    .addOption(choice('--status <status>', STATUSES.join(', '), STATUSES))
    .option('--user-code <code>', 'the code the agent shows (ABCD-EFGH)')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ status?: ListApprovalsParamsStatus; userCode?: string; limit?: number }>(async (ctx, opts) => {
      const params = defined({ status: opts.status, userCode: opts.userCode, limit: pageSize(opts.limit) });
      ctx.out.list(await collectItems(ctx.client().approvals.list(params), opts.limit), approvalColumns);
    }));

  approvals
    .command('get')
    .description('show a request')
    .argument('<approvalId>', 'approval id (apr_…)')
    .action(run(async (ctx, _opts, [approvalId = '']) => {
      ctx.out.object(await ctx.client().approvals.get(approvalId));
    }));

  approvals
    .command('approve')
    .description('let the agent in')
    .argument('<approvalId>', 'approval id')
    .option('--scopes <scopes>', 'grant these scopes only (comma- or space-separated; default as requested)')
    .addOption(choice('--trust-level <level>', `set the agent's trust level (${TRUST_LEVELS.join(', ')})`, TRUST_LEVELS))
    .action(run<{ scopes?: string; trustLevel?: TrustLevel }>(async (ctx, opts, [approvalId = '']) => {
      const grant: ApprovalGrant = defined({ scopes: opts.scopes === undefined ? undefined : splitList(opts.scopes), trustLevel: opts.trustLevel });
      ctx.out.object(await ctx.client().approvals.approve(approvalId, grant));
    }));

  approvals
    .command('deny')
    .description('turn the agent away')
    .argument('<approvalId>', 'approval id')
    .option('--reason <text>', 'why (recorded on the audit trail)')
    .action(run<{ reason?: string }>(async (ctx, opts, [approvalId = '']) => {
      ctx.out.object(await ctx.client().approvals.deny(approvalId, defined({ reason: opts.reason })));
    }));
}
