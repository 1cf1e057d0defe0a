/**
 * The route table: a path's parameters decoded, a trailing slash and the case of the fixed
 * parts ignored, HEAD answered by GET operations, 405 with the path's Allow list for another
 * method (OPTIONS: 200 and the list), unknown paths passed on, and each operation's steps
 * composed once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa, { type Middleware } from 'koa';
import { problems } from '../../src/http/middleware';
import { RouteTable, pathParams } from '../../src/http/route-table';
import { capturedLogger } from '../helpers/logs';
import { rawRequest } from '../helpers/raw-request';

let server: Server;
let base: string;

/** A step that answers with the operation's name, its path parameters and the steps that ran before it. */
const answer =
  (operation: string): Middleware =>
  (ctx) => {
    ctx.body = { operation, params: pathParams(ctx), ran: (ctx.state as { ran?: string[] }).ran ?? [] };
  };
const mark =
  (step: string): Middleware =>
  async (ctx, next) => {
    const state = ctx.state as { ran?: string[] };
    state.ran = [...(state.ran ?? []), step];
    await next();
  };

beforeAll(async () => {
  const routes = new RouteTable();
  routes.add('/v1/agents', 'GET', [answer('listAgents')]);
  routes.add('/v1/agents', 'POST', [mark('authenticate'), mark('authorize'), answer('createAgent')]);
  routes.add('/v1/agents/{agentId}', 'GET', [answer('getAgent')]);
  routes.add('/v1/agents/{agentId}/credentials/{credentialId}', 'DELETE', [answer('revokeCredential')]);
  routes.add('/oauth2/token', 'POST', [answer('issueToken')]);
  const app = new Koa();
  app.silent = true;
  app.use(problems(capturedLogger('fatal').logger));
  app.use(routes.middleware());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

async function send(method: string, path: string): Promise<{ status: number; allow: string | undefined; body: string }> {
  const answer = await rawRequest(`${base}${path}`, { method });
  return { status: answer.status, allow: answer.headers.allow, body: answer.body.toString() };
}

const json = (body: string): unknown => JSON.parse(body);

describe('RouteTable', () => {
  it('finds the operation and decodes its path parameters', async () => {
    expect(json((await send('GET', '/v1/agents/agt_AbC%20d')).body)).toEqual({ operation: 'getAgent', params: { agentId: 'agt_AbC d' }, ran: [] });
    const revoke = await send('DELETE', '/v1/agents/agt_1/credentials/cred_2');
    expect(json(revoke.body)).toMatchObject({ operation: 'revokeCredential', params: { agentId: 'agt_1', credentialId: 'cred_2' } });
    // However long: refusing an overlong id is its operation's validation's job.
    const long = `agt_${'z'.repeat(5000)}`;
    expect(json((await send('GET', `/v1/agents/${long}`)).body)).toMatchObject({ operation: 'getAgent', params: { agentId: long } });
  });

  it('runs the steps of the method asked, in order', async () => {
    expect(json((await send('POST', '/v1/agents')).body)).toEqual({ operation: 'createAgent', params: {}, ran: ['authenticate', 'authorize'] });
    expect(json((await send('GET', '/v1/agents')).body)).toMatchObject({ operation: 'listAgents', ran: [] });
  });

  it('ignores a trailing slash and the case of the fixed parts, not of the parameters', async () => {
    expect(json((await send('POST', '/oauth2/token/')).body)).toMatchObject({ operation: 'issueToken' });
    expect(json((await send('GET', '/V1/Agents/Agt_X')).body)).toMatchObject({ operation: 'getAgent', params: { agentId: 'Agt_X' } });
  });

  it('answers HEAD with the GET operation, without a body', async () => {
    const head = await send('HEAD', '/v1/agents/agt_1');
    expect(head).toMatchObject({ status: 200, body: '' });
  });

  it('answers another method on a known path with 405 and its Allow list, OPTIONS with 200', async () => {
    for (const method of ['PUT', 'TRACE', 'PROPFIND', 'DELETE']) {
      const wrong = await send(method, '/v1/agents');
      expect(wrong).toMatchObject({ status: 405, allow: 'HEAD, GET, POST' });
      expect(json(wrong.body)).toMatchObject({ code: 'METHOD_NOT_ALLOWED', detail: '/v1/agents supports HEAD, GET, POST.' });
    }
    expect(await send('GET', '/oauth2/token')).toMatchObject({ status: 405, allow: 'POST' });
    expect(await send('OPTIONS', '/v1/agents/agt_1')).toMatchObject({ status: 200, allow: 'HEAD, GET', body: '' });
  });

  it('passes unknown paths on, to the 404 problem', async () => {
    for (const path of ['/v1/nothing', '/v1//agents', '/v1/agents/agt_1/extra', '/v1/agents/%E0%A4%A']) {
      const missing = await send('GET', path);
      expect(missing.status).toBe(404);
      expect(json(missing.body)).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    }
  });
});
