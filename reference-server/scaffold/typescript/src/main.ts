// Calls the Mandate API as one agent, through the TypeScript SDK (@mandate/sdk).
// The agent's id is its OAuth client id; its secret comes from the environment only, so it
// is never written into this project (see README.md).
import { APIError, Mandate } from '@mandate/sdk';

const AGENT_ID = '{{agentId}}';
// The server this project was downloaded from; MANDATE_BASE_URL points it elsewhere.
const DEFAULT_BASE_URL = '{{baseUrl}}';

function secretFromEnvironment(): string {
  const secret = process.env.MANDATE_CLIENT_SECRET;
  if (secret === undefined || secret.trim() === '') {
    console.error(
      'MANDATE_CLIENT_SECRET is not set. Export the secret of one of the agent\'s credentials ' +
        `(an admin creates one with POST /v1/agents/${AGENT_ID}/credentials), or put it in .env: see README.md.`,
    );
    process.exit(1);
  }
  return secret.trim();
}

async function main(): Promise<void> {
  const client = new Mandate({
    baseURL: process.env.MANDATE_BASE_URL || DEFAULT_BASE_URL,
    clientId: AGENT_ID,
    clientSecret: secretFromEnvironment(),
  });

  // {{#if readsAgents}}
  // The SDK's token manager gets an access token with the client-credentials grant before
  // this first call, and renews it before it expires. Reading itself needs agents:read.
  const agent = await client.agents.get(AGENT_ID);
  console.log(JSON.stringify(agent, null, 2));
  console.log(`OK: the agent ${agent.name} (${agent.id}) read itself from the Mandate API.`);
  // {{else}}
  // This agent does not hold agents:read, so it cannot read itself. Any agent may ask about
  // its own tokens, so it gets one (client-credentials grant) and introspects it.
  const token = await client.oauth.issueToken({ grant_type: 'client_credentials' });
  const introspection = await client.oauth.introspect({ token: token.access_token });
  console.log(JSON.stringify(introspection, null, 2));
  if (!introspection.active) throw new Error('the new access token introspected as inactive');
  console.log(`OK: the agent ${introspection.sub ?? AGENT_ID} holds an active access token (scopes: ${introspection.scope || 'none'}).`);
  // {{/if}}
}

main().catch((error: unknown) => {
  // An APIError carries the server's status and problem code in its message.
  console.error(error instanceof APIError ? `Mandate refused the call: ${error.message}` : error);
  process.exit(1);
});
