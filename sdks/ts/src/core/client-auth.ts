import { ClientAssertionSigner } from './client-assertion.js';
import { MandateError } from './errors.js';
import type { ResolvedCredentials } from './options.js';
import { InvalidPrivateKey, parsePrivateKey } from './private-key.js';

/** How the client proves to the token, introspection and revocation endpoints which agent it is. */
export type ClientAuthentication =
  | { method: 'client_secret_basic'; id: string; secret: string }
  | { method: 'private_key_jwt'; id: string; signer: ClientAssertionSigner };

/**
 * The agent's client authentication from its resolved credentials, or undefined for a client
 * that is no agent. Every inconsistency is a configuration error here, at construction,
 * rather than a 400 or 401 on the first call.
 */
export function clientAuthentication(
  credentials: ResolvedCredentials,
  keyId: string | undefined,
  nowMs: () => number,
): ClientAuthentication | undefined {
  const { clientId, clientSecret, privateKey } = credentials;
  if (clientSecret !== undefined && privateKey !== undefined) {
    throw new MandateError(
      'Both a client secret and a private key are configured: give clientSecret or privateKey (MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY), not both; the server takes one authentication method per request.',
    );
  }
  // A workload's clientId only picks the agent: its federated token is the credential.
  const federated = credentials.federatedToken !== undefined || credentials.federatedTokenFile !== undefined;
  if (!federated && (clientId === undefined) !== (clientSecret === undefined && privateKey === undefined)) {
    throw new MandateError(
      'Give clientId together with clientSecret or privateKey (or MANDATE_CLIENT_ID with MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY), or none of them (with a federated token, clientId may stand alone).',
    );
  }
  if (keyId !== undefined && privateKey === undefined) throw new MandateError('keyId was given without a private key (privateKey or MANDATE_CLIENT_PRIVATE_KEY).');
  if (clientId === undefined) return undefined;
  if (clientSecret !== undefined) return { method: 'client_secret_basic', id: clientId, secret: clientSecret };
  if (privateKey === undefined) return undefined;
  try {
    const parsed = parsePrivateKey(privateKey.value);
    return { method: 'private_key_jwt', id: clientId, signer: new ClientAssertionSigner(clientId, parsed, keyId, nowMs) };
  } catch (error) {
    if (error instanceof InvalidPrivateKey) throw new MandateError(`The private key in ${privateKey.source} cannot be used: ${error.message}.`);
    throw error;
  }
}
