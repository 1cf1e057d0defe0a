import type { Command } from 'commander';
import type { AdminToken, AdminTokenRole, Organization, OrganizationCreate, OrganizationUpdate, Plan } from '@mandate/sdk';
import type { Column } from '../io/output.js';
import { collectItems, confirmAction, defined, metadataJson, limitOption, choice, pageSize, positiveInt, run, yesOption } from './common.js';

const PLANS: readonly Plan[] = ['free', 'pro', 'enterprise'];
const ROLES: readonly AdminTokenRole[] = ['reader', 'writer', 'admin'];

const orgColumns: Column<Organization>[] = [
  { header: 'ID', value: (o) => o.id },
  { header: 'NAME', value: (o) => o.name },
  { header: 'PLAN', value: (o) => o.plan },
  { header: 'DPOP REQUIRED', value: (o) => o.dpopRequired },
  { header: 'CREATED', value: (o) => o.createdAt },
];

const tokenColumns: Column<AdminToken>[] = [
  { header: 'ID', value: (t) => t.id },
  { header: 'ROLE', value: (t) => t.role },
  { header: 'LABEL', value: (t) => t.label },
  { header: 'PREFIX', value: (t) => t.prefix },
  { header: 'STATUS', value: (t) => t.status, status: true },
  { header: 'EXPIRES', value: (t) => t.expiresAt },
  { header: 'LAST USED', value: (t) => t.lastUsedAt },
];

interface OrgFields {
  name?: string;
  plan?: Plan;
  dpopRequired?: boolean;
  metadata?: Record<string, string>;
}

function orgBody(opts: OrgFields): OrganizationUpdate {
  return defined({ name: opts.name, plan: opts.plan, dpopRequired: opts.dpopRequired, metadata: opts.metadata });
}

function orgFieldOptions(command: Command): Command {
  return command
    .addOption(choice('--plan <plan>', `the plan (${PLANS.join(', ')}; instance admin only)`, PLANS))
    .option('--dpop-required', 'every agent of the organization must use DPoP-bound tokens')
    .option('--no-dpop-required', 'agents may use bearer tokens')
    .option('--metadata <json>', 'metadata as a JSON object of strings (replaces the old)', metadataJson('--metadata'));
}

export function registerOrgs(program: Command): void {
  const orgs = program.command('orgs').description('organizations (tenants) and their admin tokens');

  orgs
    .command('list')
    .description('list the organizations the token can see')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ limit?: number }>(async (ctx, opts) => {
      ctx.out.list(await collectItems(ctx.client().orgs.list({ limit: pageSize(opts.limit) }), opts.limit), orgColumns);
    }));

  orgs
    .command('get')
    .description('show an organization')
    .argument('<orgId>', 'organization id (org_…)')
    .action(run(async (ctx, _opts, [orgId = '']) => {
      ctx.out.object(await ctx.client().orgs.get(orgId));
    }));

  orgFieldOptions(
    orgs
      .command('create')
      .description('create an organization (instance admin)')
      .requiredOption('--name <name>', 'display name'),
  ).action(run<OrgFields & { name: string }>(async (ctx, opts) => {
    const body: OrganizationCreate = { ...orgBody(opts), name: opts.name };
    ctx.out.object(await ctx.client().orgs.create(body));
  }));

  orgFieldOptions(
    orgs
      .command('update')
      .description('change an organization: only the fields given')
      .argument('<orgId>', 'organization id')
      .option('--name <name>', 'display name'),
  ).action(run<OrgFields>(async (ctx, opts, [orgId = '']) => {
    ctx.out.object(await ctx.client().orgs.update(orgId, orgBody(opts)));
  }));

  orgs
    .command('delete')
    .description('delete an organization (instance admin; every agent must be decommissioned first)')
    .argument('<orgId>', 'organization id')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [orgId = '']) => {
      await confirmAction(ctx, `Delete organization ${orgId}`, opts.yes);
      await ctx.client().orgs.delete(orgId);
      ctx.out.success(`Deleted organization ${orgId}.`);
    }));

  const tokens = orgs.command('tokens').description("an organization's admin API tokens");
  tokens
    .command('list')
    .description('list admin tokens (metadata only: values are never shown again)')
    .argument('<orgId>', 'organization id')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ limit?: number }>(async (ctx, opts, [orgId = '']) => {
      ctx.out.list(await collectItems(ctx.client().adminTokens.list(orgId, { limit: pageSize(opts.limit) }), opts.limit), tokenColumns);
    }));
  tokens
    .command('create')
    .description('mint an admin token; its value is printed this once')
    .argument('<orgId>', 'organization id')
    .addOption(choice('--role <role>', ROLES.join(', '), ROLES).makeOptionMandatory())
    .requiredOption('--label <label>', 'what the token is for')
    .option('--expires-at <time>', 'RFC 3339 expiry time')
    .action(run<{ role: AdminTokenRole; label: string; expiresAt?: string }>(async (ctx, opts, [orgId = '']) => {
      const created = await ctx.client().adminTokens.create(orgId, defined({ role: opts.role, label: opts.label, expiresAt: opts.expiresAt }) as { role: AdminTokenRole; label: string });
      if (ctx.out.format === 'table') ctx.out.warn('The token is shown only now: store it in a secret manager.');
      ctx.out.object(created);
    }));
  tokens
    .command('revoke')
    .description('revoke an admin token at once')
    .argument('<orgId>', 'organization id')
    .argument('<tokenId>', 'token id (tok_…)')
    .action(run(async (ctx, _opts, [orgId = '', tokenId = '']) => {
      ctx.out.object(await ctx.client().adminTokens.revoke(orgId, tokenId));
    }));
}
