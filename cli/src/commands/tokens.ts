import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type Introspection, type TokenRequest } from '@mandate/sdk';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { CliError, usageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Context } from '../context.js';
import { readTokenFile } from '../settings/resolve.js';
import { defined, run } from './common.js';

/**
 * A token argument, or `-` to read it from standard input: a token on the command line is
 * visible to every user of the machine (`ps`), so scripts should pipe it.
 */
function tokenArgument(value: string): string {
  const token = value === '-' ? readFileSync(0, 'utf8').trim() : value.trim();
  if (token === '') throw usageError('No token given.');
  return token;
}

/**
 * An agent's secret, from --secret-file (or `-`) or MANDATE_CLIENT_SECRET; never a flag
 * value, for the same reason as tokens.
 */
function agentSecret(secretFile: string | undefined): string {
  if (secretFile !== undefined) return readTokenFile(secretFile);
  const fromEnv = process.env.MANDATE_CLIENT_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  throw new CliError("The agent's client secret is needed.", ExitCode.auth, 'Pass --secret-file PATH (- for standard input) or set MANDATE_CLIENT_SECRET.');
}

function clientIdOf(token: string, given: string | undefined): string {
  if (given !== undefined) return given;
  try {
    const claims = decodeJwt(token);
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : claims.sub;
    if (typeof clientId === 'string') return clientId;
  } catch {
    // not a JWT: fall through
  }
  throw usageError('Cannot tell the agent from the token.', 'Pass --client-id AGENT_ID.');
}

interface IssueOptions {
  scope?: string;
  resource?: string;
  secretFile?: string;
  raw?: boolean;
}

async function issue(ctx: Context, opts: IssueOptions, agentId: string): Promise<void> {
  const client = ctx.client({ clientId: agentId, clientSecret: agentSecret(opts.secretFile) });
  const request: TokenRequest = { grant_type: 'client_credentials', ...defined({ scope: opts.scope, resource: opts.resource }) };
  const token = await client.oauth.issueToken(request);
  if (opts.raw === true) ctx.out.raw(token.access_token);
  else ctx.out.object(token);
}

interface DecodeOptions {
  audience?: string;
  verify: boolean;
}

/** What `tokens decode` prints: the JOSE header, the claims, and whether they verified. */
interface Decoded {
  verified: boolean | null;
  reason: string | null;
  issuer: string | null;
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
}

async function decode(ctx: Context, opts: DecodeOptions, token: string): Promise<void> {
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw usageError('This is not a JWT.');
  }
  const result: Decoded = { verified: null, reason: null, issuer: null, header, claims };
  if (opts.verify) {
    // The server's keys and issuer name come through the SDK; jose checks the signature.
    const client = ctx.client({ anonymous: true });
    const [metadata, jwks] = await Promise.all([client.oauth.serverMetadata(), client.oauth.jwks()]);
    result.issuer = metadata.issuer;
    try {
      await jwtVerify(token, createLocalJWKSet(jwks as unknown as Parameters<typeof createLocalJWKSet>[0]), {
        issuer: metadata.issuer,
        ...(opts.audience === undefined ? {} : { audience: opts.audience }),
        algorithms: ['ES256', 'RS256', 'EdDSA'],
        clockTolerance: 30,
      });
      result.verified = true;
    } catch (error) {
      result.verified = false;
      result.reason = error instanceof joseErrors.JOSEError ? `${error.code}: ${error.message}` : String(error);
    }
  }
  if (ctx.out.format === 'table') {
    ctx.out.object({
      verified: result.verified === null ? 'not checked' : result.verified ? 'yes' : 'NO',
      ...(result.reason === null ? {} : { reason: result.reason }),
      ...(result.issuer === null ? {} : { issuer: result.issuer }),
      ...Object.fromEntries(Object.entries(header).map(([key, value]) => [`header.${key}`, value])),
      ...Object.fromEntries(Object.entries(claims).map(([key, value]) => [key, key === 'exp' || key === 'iat' || key === 'nbf' ? `${String(value)} (${new Date(Number(value) * 1000).toISOString()})` : value])),
    }, ['verified']);
  } else ctx.out.data(result);
  if (result.verified === false) process.exitCode = ExitCode.failures;
}

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description("agents' access tokens: issue, introspect, revoke, decode and verify");

  tokens
    .command('issue')
    .description("get an access token for an agent with its client secret (client credentials grant)")
    .argument('<agentId>', 'the agent (its client id)')
    .option('--secret-file <file>', "file holding the agent's client secret (- for standard input; else MANDATE_CLIENT_SECRET)")
    .option('--scope <scopes>', 'space-separated scopes (default: all the agent may have)')
    .option('--resource <uri>', 'the API the token is for (its audience)')
    .option('--raw', 'print the access token alone, for $(…)')
    .action(run<IssueOptions>(async (ctx, opts, [agentId = '']) => {
      await issue(ctx, opts, agentId);
    }));

  tokens
    .command('introspect')
    .description('ask the server whether a token is active, and its claims (needs tokens:introspect)')
    .argument('<token>', 'the access token, or - to read it from standard input')
    .action(run(async (ctx, _opts, [value = '']) => {
      const result: Introspection = await ctx.client().oauth.introspect({ token: tokenArgument(value) });
      ctx.out.object(result, ['active']);
    }));

  tokens
    .command('revoke')
    .description("revoke an agent's access token, as that agent (its client secret is needed)")
    .argument('<token>', 'the access token, or - to read it from standard input')
    .option('--client-id <agentId>', "the agent (default: the token's client_id)")
    .option('--secret-file <file>', "file holding the agent's client secret (- for standard input; else MANDATE_CLIENT_SECRET)")
    .action(run<{ clientId?: string; secretFile?: string }>(async (ctx, opts, [value = '']) => {
      const token = tokenArgument(value);
      if (value === '-' && opts.secretFile === '-') throw usageError('Standard input cannot hold both the token and the secret.');
      const clientId = clientIdOf(token, opts.clientId);
      await ctx.client({ clientId, clientSecret: agentSecret(opts.secretFile) }).oauth.revoke({ token, token_type_hint: 'access_token' });
      // RFC 7009 answers 200 with no body, also for a token already revoked or unknown.
      ctx.out.success(`Revoked the token as ${clientId}.`);
    }));

  tokens
    .command('decode')
    .description("show a JWT's header and claims, verified against the server's JWKS and issuer (exit 6 if it does not verify)")
    .argument('<token>', 'the token, or - to read it from standard input')
    .option('--audience <aud>', 'also require this audience')
    .option('--no-verify', 'decode only; contact no server')
    .action(run<DecodeOptions>(async (ctx, opts, [value = '']) => {
      await decode(ctx, opts, tokenArgument(value));
    }));
}
