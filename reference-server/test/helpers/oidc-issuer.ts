/**
 * A real OIDC issuer on loopback for federation tests: a discovery document and a JWK Set
 * over HTTP, and tokens shaped like those of GitHub Actions, GitLab CI or Kubernetes, signed
 * with its keys (or, for attacks, with others).
 */
import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jose } from '../../src/domain/jose';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

export function newSigningKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): SigningKey {
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

export interface TestIssuer {
  url: string;
  /** The keys the JWK Set publishes; change it to rotate. */
  keys: SigningKey[];
  /** How many times the JWK Set was fetched. */
  jwksFetches: number;
  /** Signs claims (with iss, iat and exp filled in unless given) with a published key, or `key`. */
  mint(claims: Record<string, unknown>, options?: { key?: SigningKey; kid?: string | null; header?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<TestIssuer> {
  const server: Server = createServer((request, response) => {
    const send = (body: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration') send({ issuer: issuer.url, jwks_uri: `${issuer.url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    else if (request.url === '/jwks') {
      issuer.jwksFetches += 1;
      send({ keys: issuer.keys.map((key) => key.publicJwk) });
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer: TestIssuer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keys: [newSigningKey('key-1')],
    jwksFetches: 0,
    async mint(claims, options = {}) {
      const { SignJWT } = await jose();
      const key = options.key ?? (issuer.keys[0] as SigningKey);
      const now = Math.floor(Date.now() / 1000);
      const kid = options.kid === undefined ? key.kid : options.kid;
      const header = { alg: key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }), ...options.header };
      return new SignJWT({ iss: issuer.url, iat: now, nbf: now - 5, exp: now + 300, ...claims }).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
  return issuer;
}

/** The claims of a GitHub Actions ID token for a workflow run on a branch. */
export function githubActionsClaims(repository: string, audience: string, ref = 'refs/heads/main'): Record<string, unknown> {
  const [owner] = repository.split('/');
  return {
    sub: `repo:${repository}:ref:${ref}`,
    aud: audience,
    jti: `gha-${Math.random().toString(36).slice(2)}`,
    ref,
    ref_type: 'branch',
    repository,
    repository_owner: owner,
    repository_visibility: 'private',
    run_id: '6227890112',
    run_number: '42',
    run_attempt: '1',
    actor: 'octocat',
    workflow: 'deploy',
    workflow_ref: `${repository}/.github/workflows/deploy.yml@${ref}`,
    event_name: 'push',
    runner_environment: 'github-hosted',
  };
}
