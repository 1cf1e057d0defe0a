// CI for this example (`make test-examples`): a throwaway Mandate server, this folder's MCP
// server, and the agent, all real processes on 127.0.0.1. Prints one line per check and
// ends with "examples-mcp: N passed, M failed"; exits 1 on any failure.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Mandate } from '@mandate/sdk';

const here = fileURLToPath(new URL('.', import.meta.url));
const children = [];

/** Starts a process that prints one JSON line when it is ready, and returns that line. */
async function startProcess(args, env) {
  const child = spawn(process.execPath, args, { cwd: here, env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${args.join(' ')} exited with ${code}`);
    }),
  ]);
  return JSON.parse(line);
}

async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  return port;
}

const mandateServer = await startProcess(['../../conformance/serve.mjs'], {});
const baseURL = mandateServer.baseURL;
const root = new Mandate({ baseURL, apiToken: mandateServer.token });
const org = await root.orgs.create({ name: 'mcp-example' });
const { token: orgToken } = await root.adminTokens.create(org.id, { role: 'admin', label: 'mcp-example' });
const admin = new Mandate({ baseURL, apiToken: orgToken });

async function agentWithSecret(name, allowedScopes) {
  const agent = await admin.agents.create({ name, agentType: 'autonomous', allowedScopes });
  const credential = await admin.credentials.create(agent.id, {});
  return { id: agent.id, clientId: credential.clientId, secret: credential.secret };
}
const toolUser = await agentWithSecret('mcp-tool-user', ['tools:call']);
const bystander = await agentWithSecret('mcp-bystander', ['agents:read']);

const port = await freePort();
const mcp = await startProcess(['server.mjs'], { MANDATE_BASE_URL: baseURL, PORT: String(port) });
const mcpUrl = mcp.mcp;
const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;

const runAgent = (agent, ...args) =>
  promisify(execFile)(process.execPath, ['agent.mjs', ...args], {
    cwd: here,
    env: { PATH: process.env.PATH, MANDATE_BASE_URL: baseURL, MANDATE_CLIENT_ID: agent.clientId, MANDATE_CLIENT_SECRET: agent.secret, MCP_URL: mcpUrl },
  });

const tokenFor = (agent, params) =>
  new Mandate({ baseURL, clientId: agent.clientId, clientSecret: agent.secret, ...(params.dpop ? { dpop: true } : {}) }).oauth.issueToken({
    grant_type: 'client_credentials',
    ...(params.resource === undefined ? {} : { resource: params.resource }),
    ...(params.scope === undefined ? {} : { scope: params.scope }),
  });

/** An MCP initialize request, as the MCP client's first message. */
const initialize = (authorization) =>
  fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
  });

const checks = {
  'the metadata document names Mandate as the authorization server (RFC 9728)': async () => {
    assert.equal(mcp.metadata, metadataUrl);
    const response = await fetch(metadataUrl);
    assert.equal(response.status, 200);
    const document = await response.json();
    assert.equal(document.resource, mcpUrl);
    assert.deepEqual(document.authorization_servers, [baseURL]);
    assert.deepEqual(document.scopes_supported, ['tools:call']);
  },
  'the agent gets a token for the MCP server and calls its tool': async () => {
    const { stdout } = await runAgent(toolUser, 'five words for the tool');
    assert.equal(stdout.trim(), `5 words (for agent ${toolUser.id})`);
  },
  'the agent does the same with a DPoP-bound token': async () => {
    const { stdout } = await runAgent(toolUser, 'bound to a key', '--dpop');
    assert.equal(stdout.trim(), `4 words (for agent ${toolUser.id})`);
  },
  'no token: 401 pointing at the metadata': async () => {
    const response = await initialize(undefined);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`);
  },
  'a token for another audience: 401 invalid_token': async () => {
    const token = await tokenFor(toolUser, { scope: 'tools:call' }); // audience: Mandate itself
    const response = await initialize(`Bearer ${token.access_token}`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate'), new RegExp(`^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${metadataUrl}"$`));
  },
  'a token without the tools:call scope: 403 insufficient_scope': async () => {
    const token = await tokenFor(bystander, { resource: mcpUrl });
    const response = await initialize(`Bearer ${token.access_token}`);
    assert.equal(response.status, 403);
    assert.match(response.headers.get('www-authenticate'), new RegExp(`^Bearer error="insufficient_scope", error_description="[^"]+", scope="tools:call", resource_metadata="${metadataUrl}"$`));
  },
  'a DPoP-bound token sent as a bearer token: 401': async () => {
    const token = await tokenFor(toolUser, { resource: mcpUrl, dpop: true });
    assert.equal(token.token_type, 'DPoP');
    const response = await initialize(`Bearer ${token.access_token}`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate'), /^DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_token", /);
  },
};

let passed = 0;
let failed = 0;
try {
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      passed += 1;
      console.log(`ok - ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`not ok - ${name}\n  ${String(error?.stack ?? error).replaceAll('\n', '\n  ')}`);
    }
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
}
console.log(`examples-mcp: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
