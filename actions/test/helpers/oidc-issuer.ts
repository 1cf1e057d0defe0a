/**
 * A loopback OIDC issuer standing in for GitHub's or GitLab's: a discovery document and a
 * JWK Set over HTTP, and RS256 ID tokens signed with its key, whose claims the tests choose.
 * The reference server fetches its keys as it would the real issuer's.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestIssuer {
  url: string;
  /** Signs claims; iss, iat, nbf, exp and jti are filled in unless given. */
  mint(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${randomUUID().slice(0, 8)}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  let url = '';
  const server: Server = createServer((request, response) => {
    const send = (body: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration') {
      send({ issuer: url, jwks_uri: `${url}/.well-known/jwks`, id_token_signing_alg_values_supported: ['RS256'], response_types_supported: ['id_token'] });
    } else if (request.url === '/.well-known/jwks') {
      send({ keys: [jwk] });
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    url,
    mint(claims) {
      const now = Math.floor(Date.now() / 1000);
      const input = `${segment({ alg: 'RS256', typ: 'JWT', kid })}.${segment({ iss: url, iat: now, nbf: now - 5, exp: now + 300, jti: randomUUID(), ...claims })}`;
      return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** The claims of a GitHub Actions ID token of a push workflow on a branch. */
export function githubClaims(repository: string, audience: string, ref = 'refs/heads/main'): Record<string, unknown> {
  return {
    sub: `repo:${repository}:ref:${ref}`,
    aud: audience,
    ref,
    ref_type: 'branch',
    repository,
    repository_owner: repository.split('/')[0],
    repository_visibility: 'private',
    run_id: '8124516023',
    run_number: '17',
    run_attempt: '1',
    actor: 'octocat',
    event_name: 'push',
    workflow: 'deploy',
    workflow_ref: `${repository}/.github/workflows/deploy.yml@${ref}`,
    runner_environment: 'github-hosted',
  };
}

/** The claims of a GitLab CI ID token of a pipeline on a branch. */
export function gitlabClaims(projectPath: string, audience: string, ref = 'main'): Record<string, unknown> {
  return {
    sub: `project_path:${projectPath}:ref_type:branch:ref:${ref}`,
    aud: audience,
    project_id: '4711',
    project_path: projectPath,
    namespace_id: '815',
    namespace_path: projectPath.split('/').slice(0, -1).join('/'),
    user_login: 'jdoe',
    pipeline_id: '1218',
    pipeline_source: 'push',
    job_id: '90210',
    ref,
    ref_type: 'branch',
    ref_protected: 'true',
    runner_environment: 'gitlab-hosted',
  };
}
