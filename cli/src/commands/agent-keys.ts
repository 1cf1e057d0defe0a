import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AgentKey, PublicJwkInput } from '@mandate/sdk';
import { usageError } from '../errors.js';
import type { Column } from '../io/output.js';
import { collectItems, confirmAction, limitOption, pageSize, positiveInt, run, yesOption } from './common.js';

const keyColumns: Column<AgentKey>[] = [
  { header: 'ID', value: (k) => k.id },
  { header: 'KID', value: (k) => k.kid },
  { header: 'ALG', value: (k) => k.alg },
  { header: 'LABEL', value: (k) => k.label },
  { header: 'CREATED', value: (k) => k.createdAt },
  { header: 'LAST USED', value: (k) => k.lastUsedAt },
];

/**
 * A public key from a file: a JWK (JSON) or a PEM (SPKI, or a certificate's key). A private
 * key is refused, so that it is never sent: only its public half belongs on the server.
 */
export function readPublicJwk(path: string): PublicJwkInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw usageError(`Cannot read ${path}.`);
  }
  if (text.includes('PRIVATE KEY')) throw usageError(`${path} holds a private key; register its public key only.`);
  if (text.trimStart().startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(text);
    } catch {
      throw usageError(`${path} is not valid JSON.`);
    }
    if (typeof jwk !== 'object' || jwk === null || 'd' in jwk) throw usageError(`${path} must hold a public JWK (no "d").`);
    return jwk as PublicJwkInput;
  }
  try {
    return createPublicKey(text).export({ format: 'jwk' }) as PublicJwkInput;
  } catch {
    throw usageError(`${path} is neither a JWK nor a PEM public key.`);
  }
}

export function registerAgentKeys(agents: Command): void {
  const keys = agents.command('keys').description("an agent's public keys, for private_key_jwt instead of a secret");
  keys
    .command('list')
    .description("list an agent's public keys")
    .argument('<agentId>', 'agent id')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ limit?: number }>(async (ctx, opts, [agentId = '']) => {
      ctx.out.list(await collectItems(ctx.client().agentKeys.list(agentId, { limit: pageSize(opts.limit) }), opts.limit), keyColumns);
    }));
  keys
    .command('add')
    .description('register a public key (JWK or PEM file)')
    .argument('<agentId>', 'agent id')
    .requiredOption('--key-file <file>', 'the public key: a JWK (JSON) or PEM file')
    .option('--label <label>', 'what the key is for')
    .action(run<{ keyFile: string; label?: string }>(async (ctx, opts, [agentId = '']) => {
      const jwk = readPublicJwk(opts.keyFile);
      ctx.out.object(await ctx.client().agentKeys.add(agentId, { jwk, ...(opts.label === undefined ? {} : { label: opts.label }) }));
    }));
  keys
    .command('remove')
    .description('remove a public key; assertions signed with it are refused from now on')
    .argument('<agentId>', 'agent id')
    .argument('<keyId>', 'key id (akey_…)')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [agentId = '', keyId = '']) => {
      await confirmAction(ctx, `Remove key ${keyId} of ${agentId}`, opts.yes);
      await ctx.client().agentKeys.remove(agentId, keyId);
      ctx.out.success(`Removed key ${keyId}.`);
    }));
}
