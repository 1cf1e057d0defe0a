import type { DpopKeyInput } from './dpop.js';
import type { FederatedTokenInput } from './federated-token.js';
import type { Logger } from './log.js';
import type { PrivateKeyInput } from './private-key.js';

/** The clock and randomness the client uses; tests pass their own to control time. */
export interface Clock {
  now(): number;
  /** May resolve early once `signal` aborts, so that a closed event stream stops waiting at once. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

/**
 * Every option given (not `undefined`) wins over its environment variable. Credentials come
 * from one place only: give any of `apiToken`, `clientId`, `clientSecret`, `privateKey`,
 * `federatedToken` or `federatedTokenFile`, even as an empty string, and none of
 * `MANDATE_API_TOKEN`, `MANDATE_CLIENT_ID`, `MANDATE_CLIENT_SECRET`,
 * `MANDATE_CLIENT_PRIVATE_KEY`, `MANDATE_FEDERATED_TOKEN` and `MANDATE_FEDERATED_TOKEN_FILE` is
 * read; a client given none of them takes them all from the environment. `baseURL`, `organization` and `scope` fall back to their
 * variables one by one.
 */
export interface ClientOptions {
  /** Defaults to `MANDATE_BASE_URL`, then the spec's server. */
  baseURL?: string;
  /**
   * An admin API token (`mdt_pat_…`), sent on bearer operations. Defaults to
   * `MANDATE_API_TOKEN` only when no credential option is given; `''` means none.
   */
  apiToken?: string;
  /**
   * An agent's client id; defaults to `MANDATE_CLIENT_ID` only when no credential option is
   * given. Optional with a federated token, where it picks the agent among those whose trust
   * policies accept the token.
   */
  clientId?: string;
  /** The agent credential's secret; defaults to `MANDATE_CLIENT_SECRET` only when no credential option is given. */
  clientSecret?: string;
  /**
   * The agent's private key, for `private_key_jwt` (RFC 7523) instead of a secret: a PKCS#8
   * PEM, or a private JWK (object or JSON text) of type EC P-256 (ES256), OKP Ed25519 (EdDSA) or
   * RSA (RS256, or PS256 when the JWK's `alg` says so). Its public key must be registered with
   * `agentKeys.add`. Defaults to `MANDATE_CLIENT_PRIVATE_KEY` only when no credential option is
   * given; `''` means none. Give a secret or a key, not both.
   */
  privateKey?: PrivateKeyInput;
  /**
   * The `kid` sent with assertions. Default: the JWK's own `kid`, else the RFC 7638 thumbprint
   * of the public key, which is the kid the server gives a key registered without one.
   */
  keyId?: string;
  /**
   * Workload identity federation: a token from an external OIDC issuer that a trust policy
   * accepts (a GitHub Actions or GitLab CI ID token), exchanged for access tokens with the JWT
   * bearer grant (RFC 7523) instead of a secret or key. A function is called for every token
   * request, for a token that changes. Defaults to `MANDATE_FEDERATED_TOKEN` only when no
   * credential option is given; `''` means none.
   */
  federatedToken?: FederatedTokenInput;
  /**
   * Like `federatedToken`, from a file read again for every token request (a Kubernetes
   * projected service-account token is rotated in place). Defaults to
   * `MANDATE_FEDERATED_TOKEN_FILE` only when no credential option is given; `''` means none.
   */
  federatedTokenFile?: string;
  /**
   * A DPoP proof key (RFC 9449; no environment variable): `true` generates an EC P-256 key in
   * memory when the client is built, or give a private key in the forms `privateKey` takes.
   * Token requests then carry proofs, so the access tokens are bound to the key (`token_type`
   * `DPoP`), and requests made with such a managed token carry a proof each. See also
   * `createDpopProof`.
   */
  dpop?: DpopKeyInput;
  /** Space-separated scopes to request with client credentials or a federated token; defaults to `MANDATE_SCOPE`, else all the agent's (or the trust policy's). */
  scope?: string;
  /**
   * The organization to act in, sent as `Mandate-Organization` where an operation accepts it;
   * defaults to `MANDATE_ORGANIZATION`. An instance-admin token needs it for anything inside an
   * organization (agents, credentials, audit events); organization tokens and agents have one.
   */
  organization?: string;
  /** Further attempts after a retryable failure. Default 2. */
  maxRetries?: number;
  /** Per attempt, in milliseconds. Default 60 000. */
  timeout?: number;
  /** Sent with every request. */
  defaultHeaders?: Record<string, string>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** `debug` logs every attempt (never secrets); defaults to `MANDATE_LOG`, else `warn`. */
  logLevel?: LogLevel;
  /** Defaults to `console`. */
  logger?: Logger;
  /** For tests: time, sleeping and jitter. */
  clock?: Clock;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

export interface RequestOptions {
  /** Overrides the client's organization for this call. */
  organization?: string;
  /** Overrides the generated key; the same key is reused across this call's retries. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  timeout?: number;
  maxRetries?: number;
  signal?: AbortSignal;
}

/**
 * Options of an event stream (`events.stream`). `timeout` bounds the connect and every
 * silence on an open stream (the server sends a heartbeat every 15 s); `maxRetries` is how
 * many consecutive failed reconnects it tolerates; `signal` closes the stream like `close()`.
 */
export interface StreamOptions extends RequestOptions {
  /** Resume after this event: sent as `Last-Event-ID` on the first connect. */
  lastEventId?: string;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      if (signal?.aborted === true) done();
    }),
  random: () => Math.random(),
};

export interface ResolvedCredentials {
  apiToken: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  privateKey: { value: PrivateKeyInput; source: string } | undefined;
  federatedToken: FederatedTokenInput | undefined;
  federatedTokenFile: string | undefined;
}

/**
 * The credentials of a client, from one place: the options when any credential is given
 * there, else the environment. Mixing the two would let an agent client (explicit id and
 * secret) pick up an admin token from MANDATE_API_TOKEN and act as the admin.
 */
export function resolveCredentials(options: ClientOptions): ResolvedCredentials {
  const given = [options.apiToken, options.clientId, options.clientSecret, options.privateKey, options.federatedToken, options.federatedTokenFile].some(
    (credential) => credential !== undefined,
  );
  if (given) {
    // An empty string still counts as given (it keeps the environment out) but is no credential.
    const privateKey = options.privateKey === undefined || options.privateKey === '' ? undefined : { value: options.privateKey, source: 'privateKey' };
    return {
      apiToken: nonEmpty(options.apiToken),
      clientId: nonEmpty(options.clientId),
      clientSecret: nonEmpty(options.clientSecret),
      privateKey,
      federatedToken: options.federatedToken === '' ? undefined : options.federatedToken,
      federatedTokenFile: nonEmpty(options.federatedTokenFile),
    };
  }
  const envKey = readEnv('MANDATE_CLIENT_PRIVATE_KEY');
  return {
    apiToken: readEnv('MANDATE_API_TOKEN'),
    clientId: readEnv('MANDATE_CLIENT_ID'),
    clientSecret: readEnv('MANDATE_CLIENT_SECRET'),
    privateKey: envKey === undefined ? undefined : { value: envKey, source: 'MANDATE_CLIENT_PRIVATE_KEY' },
    federatedToken: readEnv('MANDATE_FEDERATED_TOKEN'),
    federatedTokenFile: readEnv('MANDATE_FEDERATED_TOKEN_FILE'),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads a variable where `process` exists (Node, Bun, Deno with compat); elsewhere nothing. */
export function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
