import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Credential, CredentialWithSecret } from '@mandate/sdk';
import type { Context } from '../context.js';
import type { Column } from '../io/output.js';
import { collectItems, confirmAction, defined, limitOption, pageSize, positiveInt, run, yesOption } from './common.js';

const credentialColumns: Column<Credential>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'LABEL', value: (c) => c.label },
  { header: 'PREFIX', value: (c) => c.prefix },
  { header: 'STATUS', value: (c) => c.status, status: true },
  { header: 'CREATED', value: (c) => c.createdAt },
  { header: 'EXPIRES', value: (c) => c.expiresAt },
  { header: 'LAST USED', value: (c) => c.lastUsedAt },
];

/**
 * A new secret is printed once, on stdout, because showing it is the command's purpose;
 * with --secret-file it goes to a private file instead and stdout shows the metadata only.
 */
function showSecret(ctx: Context, credential: CredentialWithSecret, secretFile: string | undefined): void {
  if (secretFile !== undefined) {
    writeFileSync(secretFile, `${credential.secret}\n`, { mode: 0o600 });
    const { secret: _secret, ...metadata } = credential;
    ctx.out.success(`Wrote the secret of ${credential.id} to ${secretFile} (mode 0600).`);
    ctx.out.object(metadata);
    return;
  }
  if (ctx.out.format === 'table') ctx.out.warn('The secret is shown only now: store it in a secret manager.');
  ctx.out.object(credential);
}

export function registerCredentials(program: Command): void {
  const credentials = program.command('credentials').description("agents' client secrets: create (secret shown once), rotate, revoke");

  credentials
    .command('list')
    .description("list an agent's credentials (metadata only)")
    .argument('<agentId>', 'agent id')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ limit?: number }>(async (ctx, opts, [agentId = '']) => {
      ctx.out.list(await collectItems(ctx.client().credentials.list(agentId, { limit: pageSize(opts.limit) }), opts.limit), credentialColumns);
    }));

  credentials
    .command('get')
    .description('show a credential (metadata only)')
    .argument('<agentId>', 'agent id')
    .argument('<credentialId>', 'credential id (cred_…)')
    .action(run(async (ctx, _opts, [agentId = '', credentialId = '']) => {
      ctx.out.object(await ctx.client().credentials.get(agentId, credentialId));
    }));

  credentials
    .command('create')
    .description('create a credential; its secret is printed this once')
    .argument('<agentId>', 'agent id')
    .option('--label <label>', 'what the credential is for')
    .option('--expires-at <time>', 'RFC 3339 expiry time')
    .option('--secret-file <file>', 'write the secret to this file (mode 0600) instead of printing it')
    .action(run<{ label?: string; expiresAt?: string; secretFile?: string }>(async (ctx, opts, [agentId = '']) => {
      const created = await ctx.client().credentials.create(agentId, defined({ label: opts.label, expiresAt: opts.expiresAt }));
      showSecret(ctx, created, opts.secretFile);
    }));

  credentials
    .command('rotate')
    .description('replace the secret (same credential id); the old one stops working at once')
    .argument('<agentId>', 'agent id')
    .argument('<credentialId>', 'credential id')
    .option('--secret-file <file>', 'write the new secret to this file (mode 0600) instead of printing it')
    .action(run<{ secretFile?: string }>(async (ctx, opts, [agentId = '', credentialId = '']) => {
      showSecret(ctx, await ctx.client().credentials.rotate(agentId, credentialId), opts.secretFile);
    }));

  credentials
    .command('revoke')
    .description('revoke a credential at once')
    .argument('<agentId>', 'agent id')
    .argument('<credentialId>', 'credential id')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [agentId = '', credentialId = '']) => {
      await confirmAction(ctx, `Revoke credential ${credentialId}`, opts.yes);
      ctx.out.object(await ctx.client().credentials.revoke(agentId, credentialId));
    }));
}
