import type { Command } from 'commander';
import type { Jwk, SigningKey } from '@mandate/sdk';
import type { Column } from '../io/output.js';
import { confirmAction, run, yesOption } from './common.js';

const signingKeyColumns: Column<SigningKey>[] = [
  { header: 'KID', value: (k) => k.kid },
  { header: 'ALG', value: (k) => k.alg },
  { header: 'STATUS', value: (k) => k.status, status: true },
  { header: 'CREATED', value: (k) => k.createdAt },
  { header: 'ACTIVATES', value: (k) => k.activatesAt },
  { header: 'RETIRED', value: (k) => k.retiredAt },
  { header: 'PUBLISHED UNTIL', value: (k) => k.publishedUntil },
];

const jwkColumns: Column<Jwk>[] = [
  { header: 'KID', value: (k) => k.kid },
  { header: 'KTY', value: (k) => k.kty },
  { header: 'ALG', value: (k) => k.alg },
  { header: 'CRV', value: (k) => k.crv },
  { header: 'USE', value: (k) => k.use },
];

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("the server's token-signing keys (agents' own keys: `mandate agents keys`)");

  keys
    .command('list')
    .description('list signing keys (instance admin)')
    .action(run(async (ctx) => {
      // The API answers one object with the keys in `data`; printed as the list it is.
      ctx.out.list((await ctx.client().signingKeys.list()).data, signingKeyColumns);
    }));

  keys
    .command('rotate')
    .description('create a new signing key; it signs after the activation delay (instance admin)')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts) => {
      await confirmAction(ctx, 'Rotate the signing key', opts.yes);
      ctx.out.object(await ctx.client().signingKeys.rotate());
    }));

  keys
    .command('jwks')
    .description('the public JWK Set that verifies access tokens (no token needed)')
    .action(run(async (ctx) => {
      const jwks = await ctx.client({ anonymous: true }).oauth.jwks();
      if (ctx.out.format === 'table') ctx.out.list(jwks.keys, jwkColumns);
      else ctx.out.data(jwks);
    }));
}
