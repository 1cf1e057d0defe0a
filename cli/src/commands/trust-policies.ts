import type { Command } from 'commander';
import type { ClaimConditions, TrustPolicy, TrustPolicyUpdate } from '@mandate/sdk';
import { usageError } from '../errors.js';
import type { Column } from '../io/output.js';
import { collect, collectItems, confirmAction, defined, keyValues, limitOption, orNull, pageSize, positiveInt, run, splitList, yesOption } from './common.js';

const policyColumns: Column<TrustPolicy>[] = [
  { header: 'ID', value: (p) => p.id },
  { header: 'NAME', value: (p) => p.name },
  { header: 'ISSUER', value: (p) => p.issuer },
  { header: 'AUDIENCE', value: (p) => p.audience },
  { header: 'AGENT', value: (p) => p.agentId },
  { header: 'SCOPES', value: (p) => p.scopes },
  { header: 'ENABLED', value: (p) => String(p.enabled), status: true },
];

interface PolicyFields {
  name?: string;
  description?: string;
  issuer?: string;
  audience?: string;
  condition?: string[];
  agent?: string;
  scopes?: string;
  enable?: boolean;
  disable?: boolean;
}

function conditionsOf(pairs: string[] | undefined): ClaimConditions | undefined {
  if (pairs === undefined) return undefined;
  const conditions = keyValues('--condition', pairs);
  if (conditions.sub === undefined) throw usageError('--condition must include sub=PATTERN (the subject is always matched).');
  return conditions as ClaimConditions;
}

function policyBody(opts: PolicyFields): TrustPolicyUpdate {
  return defined({
    name: opts.name,
    description: opts.description === undefined ? undefined : orNull(opts.description),
    issuer: opts.issuer,
    audience: opts.audience,
    conditions: conditionsOf(opts.condition),
    agentId: opts.agent,
    scopes: opts.scopes === undefined ? undefined : splitList(opts.scopes),
    enabled: opts.enable === true ? true : opts.disable === true ? false : undefined,
  });
}

function policyOptions(command: Command, required: boolean): Command {
  const option = (flags: string, description: string): Command => (required ? command.requiredOption(flags, description) : command.option(flags, description));
  option('--issuer <url>', "the external OIDC issuer (https://token.actions.githubusercontent.com)");
  option('--audience <aud>', 'the audience its tokens must carry');
  option('--agent <agentId>', 'the agent whose tokens are issued');
  option('--scopes <scopes>', 'scopes granted, comma- or space-separated');
  return command
    .option('--condition <claim=pattern>', 'a claim condition; sub is required; * matches any run of characters (repeatable)', collect)
    .option('--description <text>', 'what it is for ("" clears it)')
    .option('--enable', 'switch it on')
    .option('--disable', 'switch it off');
}

export function registerTrustPolicies(program: Command): void {
  const policies = program.command('trust-policies').description('workload identity federation: which external tokens become which agent');

  policies
    .command('list')
    .description('list trust policies')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ limit?: number }>(async (ctx, opts) => {
      ctx.out.list(await collectItems(ctx.client().trustPolicies.list({ limit: pageSize(opts.limit) }), opts.limit), policyColumns);
    }));

  policies
    .command('get')
    .description('show a trust policy')
    .argument('<policyId>', 'policy id (trp_…)')
    .action(run(async (ctx, _opts, [policyId = '']) => {
      ctx.out.object(await ctx.client().trustPolicies.get(policyId), ['enabled']);
    }));

  policyOptions(policies.command('create').description('create a trust policy').requiredOption('--name <name>', 'display name'), true).action(
    run<PolicyFields>(async (ctx, opts) => {
      const body = policyBody(opts);
      if (body.conditions === undefined) throw usageError('--condition sub=PATTERN is required.');
      ctx.out.object(await ctx.client().trustPolicies.create(body as Parameters<ReturnType<typeof ctx.client>['trustPolicies']['create']>[0]), ['enabled']);
    }),
  );

  policyOptions(policies.command('update').description('change a trust policy: only the fields given').argument('<policyId>', 'policy id').option('--name <name>', 'display name'), false).action(
    run<PolicyFields>(async (ctx, opts, [policyId = '']) => {
      ctx.out.object(await ctx.client().trustPolicies.update(policyId, policyBody(opts)), ['enabled']);
    }),
  );

  policies
    .command('delete')
    .description('delete a trust policy; its tokens stop being exchanged at once')
    .argument('<policyId>', 'policy id')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [policyId = '']) => {
      await confirmAction(ctx, `Delete trust policy ${policyId}`, opts.yes);
      await ctx.client().trustPolicies.delete(policyId);
      ctx.out.success(`Deleted trust policy ${policyId}.`);
    }));
}
