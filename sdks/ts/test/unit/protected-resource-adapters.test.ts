/**
 * ProtectedResource's adapters in real apps on local listeners: a Koa app, an Express app and
 * a fetch handler, each serving the metadata itself, refusing without calling the handler, and
 * handing the claims over (Bearer, and DPoP-bound with the SDK's own proofs).
 */
import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { Mandate, ProtectedResource } from '../../src/index';
import { type TestIssuer, startTestIssuer } from '../helpers/issuer';

type Jose = typeof import('jose');
let jose: Jose;
let issuer: TestIssuer;
/** A client whose only use here is createDpopProof. */
let prover: Mandate;
let proverJkt: string;

const RESOURCE = 'https://tools.example/mcp';
const M = 'https://tools.example/.well-known/oauth-protected-resource/mcp';

beforeAll(async () => {
  jose = await import('jose');
  issuer = await startTestIssuer(jose);
  prover = new Mandate({ baseURL: 'http://unused.test', apiToken: 'mdt_pat_unused', dpop: true });
  const { jwk } = jose.decodeProtectedHeader(await prover.createDpopProof({ method: 'GET', url: RESOURCE }));
  proverJkt = await jose.calculateJwkThumbprint(jwk as Parameters<Jose['calculateJwkThumbprint']>[0]);
});
afterAll(() => issuer.close());

const protect = () => new ProtectedResource({ resource: RESOURCE, issuer: issuer.issuer, scopes: ['tools:call'] });

/** What an app's protected route answers: the subject it was handed, or the refusal. */
interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

type Sender = (path: string, headers?: Record<string, string>, method?: string) => Promise<Answer>;

async function listen(server: Server): Promise<{ origin: string; send: Sender; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    send: async (path, headers = {}, method = 'GET') => {
      const response = await fetch(`${origin}${path}`, { method, headers });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Each adapter, as an app whose protected route echoes the claims it got. */
const apps: Record<string, () => Promise<{ origin: string; send: Sender; close: () => Promise<void>; calls: () => number }>> = {
  koa: async () => {
    let calls = 0;
    const app = new Koa();
    app.use(protect().koa());
    app.use((ctx) => {
      calls++;
      ctx.body = { sub: (ctx.state as { mandate: { sub: string } }).mandate.sub, where: 'ctx.state.mandate' };
    });
    const callback = app.callback();
    const server = createServer((req, res) => {
      void callback(req, res);
    });
    return { ...(await listen(server)), calls: () => calls };
  },
  express: async () => {
    let calls = 0;
    const app = express();
    app.use(protect().express());
    app.all('/{*rest}', (req, res) => {
      calls++;
      const fromReq = (req as { mandate?: { sub: string } }).mandate?.sub;
      res.json({ sub: (res.locals.mandate as { sub: string }).sub, where: fromReq === (res.locals.mandate as { sub: string }).sub ? 'res.locals.mandate' : 'mismatch' });
    });
    return { ...(await listen(createServer(app))), calls: () => calls };
  },
  fetch: async () => {
    let calls = 0;
    const handler = protect().fetch((_request, claims) => {
      calls++;
      return Promise.resolve(Response.json({ sub: claims.sub, where: 'handler argument' }));
    });
    // Node's server bridged to Request/Response: the handler sees what a fetch runtime would.
    const server = createServer((req, res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      void handler(new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers })).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(await response.text());
      });
    });
    return { ...(await listen(server)), calls: () => calls };
  },
};

describe.each(Object.keys(apps))('%s adapter', (name) => {
  let app: Awaited<ReturnType<(typeof apps)[string]>>;
  beforeAll(async () => {
    app = await (apps[name] as (typeof apps)[string])();
  });
  afterAll(() => app.close());

  it('serves the metadata document at its path, without authentication', async () => {
    const answer = await app.send('/.well-known/oauth-protected-resource/mcp');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.body).toEqual(protect().metadata);
    expect(app.calls()).toBe(0);
  });

  it('refuses a request without a token, and does not call the handler', async () => {
    const answer = await app.send('/mcp', {}, 'POST');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${M}"`);
    expect(answer.body).toEqual({ error: 'missing_token', error_description: expect.any(String) as string });
    expect(app.calls()).toBe(0);
  });

  it('refuses a token lacking the scope with 403, and does not call the handler', async () => {
    const token = await issuer.token({ aud: RESOURCE, scope: 'agents:read' });
    const answer = await app.send('/mcp', { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks a scope this resource requires.", scope="tools:call", resource_metadata="${M}"`,
    );
    expect(answer.body).toMatchObject({ error: 'insufficient_scope' });
    expect(app.calls()).toBe(0);
  });

  it('hands the claims of a good Bearer token to the handler', async () => {
    const token = await issuer.token({ aud: RESOURCE, sub: 'agt_bearer' });
    const answer = await app.send('/mcp?session=1', { authorization: `Bearer ${token}` });
    expect(answer).toMatchObject({ status: 200, body: { sub: 'agt_bearer' } });
    expect((answer.body as { where: string }).where).not.toBe('mismatch');
  });

  it('accepts a DPoP-bound token with a proof from createDpopProof, once', async () => {
    const token = await issuer.token({ aud: RESOURCE, sub: 'agt_bound', cnf: { jkt: proverJkt } });
    // The proof is for the resource's public URL; the app listens elsewhere (behind a proxy, say).
    const proof = await prover.createDpopProof({ method: 'POST', url: `${RESOURCE}?session=1`, accessToken: token });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    await expect(app.send('/mcp?session=1', headers, 'POST')).resolves.toMatchObject({ status: 200, body: { sub: 'agt_bound' } });
    const replay = await app.send('/mcp?session=1', headers, 'POST');
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_dpop_proof", /);
  });
});

it.each(['koa', 'express'])('%s: two Authorization headers (which Node would keep one of) are refused', async (name) => {
  const app = await (apps[name] as (typeof apps)[string])();
  try {
    const token = await issuer.token({ aud: RESOURCE });
    // Written by hand: fetch and http.request merge or refuse a repeated Authorization header.
    const { port } = new URL(app.origin);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer other.token.here\r\nConnection: close\r\n\r\n`);
      });
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => {
        resolve(text);
      });
      socket.on('error', reject);
    });
    const answer = { status: Number(/^HTTP\/1\.1 (\d+)/.exec(reply)?.[1]), challenge: /^www-authenticate: (.*)\r$/im.exec(reply)?.[1] };
    expect(answer).toEqual({ status: 401, challenge: `Bearer resource_metadata="${M}"` });
    expect(app.calls()).toBe(0);
  } finally {
    await app.close();
  }
});
