import { AuthenticationError, MandateError } from './errors.js';
import type { ResolvedCredentials } from './options.js';

/** RFC 7523 §2.1: a JWT presented as the authorization grant itself. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * A workload's token from an external OIDC issuer (a GitHub Actions or GitLab CI ID token, a
 * Kubernetes service-account token), or a function that returns the current one.
 */
export type FederatedTokenInput = string | (() => string | Promise<string>);

/** A workload that gets its access tokens with an external token instead of a Mandate secret. */
export interface FederatedWorkload {
  /** Picks the agent when trust policies of several agents accept the token. */
  readonly clientId: string | undefined;
  /** The token to present now. Asked again for every token request: issuers rotate them in place. */
  token(): Promise<string>;
}

/**
 * The workload's federated token from its resolved credentials, or undefined for a client
 * that has none. A federated token replaces the agent's secret or key, so giving both, or
 * two sources of the token, is a configuration error here, at construction.
 */
export function federatedWorkload(credentials: ResolvedCredentials): FederatedWorkload | undefined {
  const { clientId, federatedToken, federatedTokenFile } = credentials;
  const token = tokenSource(federatedToken, federatedTokenFile);
  if (token === undefined) return undefined;
  if (federatedToken !== undefined && federatedTokenFile !== undefined) {
    throw new MandateError(
      'Both a federated token and a federated token file are configured: give federatedToken or federatedTokenFile (MANDATE_FEDERATED_TOKEN or MANDATE_FEDERATED_TOKEN_FILE), not both.',
    );
  }
  if (credentials.clientSecret !== undefined || credentials.privateKey !== undefined) {
    throw new MandateError(
      'A federated token and a client secret or private key are configured: a workload authenticates with its federated token alone (and optionally clientId), an agent with clientSecret or privateKey.',
    );
  }
  return { clientId, token };
}

function tokenSource(token: FederatedTokenInput | undefined, file: string | undefined): (() => Promise<string>) | undefined {
  if (file !== undefined) return () => readTokenFile(file);
  if (token === undefined) return undefined;
  if (typeof token === 'string') return () => Promise.resolve(token);
  return async () => {
    const current = (await token()).trim();
    if (current === '') throw refused('the federatedToken function returned an empty token');
    return current;
  };
}

async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    // A variable specifier keeps bundlers for other runtimes from resolving a Node built-in.
    const specifier = 'node:fs/promises';
    const fs = (await import(specifier)) as { readFile(path: string, encoding: 'utf8'): Promise<string> };
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw refused(`the federated token file ${path} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const token = text.trim();
  if (token === '') throw refused(`the federated token file ${path} is empty`);
  return token;
}

/**
 * The error a missing token gets: an AuthenticationError, like the server's refusal of a bad
 * one, with status 0 because nothing was sent (as in the other SDKs).
 */
function refused(description: string): AuthenticationError {
  return new AuthenticationError(0, { error_description: description }, new Headers());
}
