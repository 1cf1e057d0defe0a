import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lowS } from '../../src/core/jws';

type Jose = typeof import('jose');

/**
 * A stand-in Mandate issuer on a local listener: it serves a JWKS and signs RFC 9068 access
 * tokens (with jose), so that a ProtectedResource can be tested without a full server.
 */
export interface TestIssuer {
  issuer: string;
  /** An access token with these claims over the defaults; `header` overrides the JWS header. */
  token(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** A token signed by a key the JWKS does not publish under that kid. */
  forgedToken(claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(jose: Jose): Promise<TestIssuer> {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const other = await jose.generateKeyPair('ES256');
  const kid = 'test-key-1';
  const jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/.well-known/jwks.json' ? JSON.stringify(jwks) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sign = async (key: CryptoKey, claims: Record<string, unknown>, header: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: issuer, sub: 'agt_caller', client_id: 'agt_caller', org: 'org_1', scope: 'tools:call', jti: crypto.randomUUID(), iat: now, exp: now + 300, ...claims };
    const jwt = await new jose.SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header } as Parameters<InstanceType<Jose['SignJWT']>['setProtectedHeader']>[0]).sign(key);
    // Mandate signs ES256 in low-S form, and the verifier accepts no other; jose does not normalize.
    const [signed, signature = ''] = [jwt.slice(0, jwt.lastIndexOf('.')), jwt.slice(jwt.lastIndexOf('.') + 1)];
    return `${signed}.${Buffer.from(lowS(new Uint8Array(Buffer.from(signature, 'base64url')))).toString('base64url')}`;
  };
  return {
    issuer,
    token: (claims = {}, header = {}) => sign(privateKey, claims, header),
    forgedToken: (claims = {}) => sign(other.privateKey, claims, {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
