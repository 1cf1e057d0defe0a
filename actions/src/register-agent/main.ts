import * as core from '@actions/core';
import { APIConnectionError, APIError, ConflictError, type Agent, type AgentCreate, type Mandate } from '@mandate/sdk';
import { ActionFailure, messageOf } from '../lib/failure.js';
import { githubIdToken } from '../lib/github-oidc.js';
import { baseUrlInput, optionalInput, requiredInput, scopesInput } from '../lib/inputs.js';
import { exchangeIdToken, mandateClient } from '../lib/mandate.js';

/** What the registering agent's token needs: to find an agent by name, and to create one. */
const REGISTRAR_SCOPES = ['agents:read', 'agents:write'];

/** The agent's fields that the inputs may set. */
interface Wanted {
  name: string;
  agentType: string | undefined;
  description: string | undefined;
  allowedScopes: string[] | undefined;
  owner: string | undefined;
  deploymentEnv: string | undefined;
}

/**
 * register-agent: makes sure an agent of this name exists, creating it if none does (a
 * decommissioned agent of that name does not count), and gives its id. An existing agent is
 * returned as it is: where the inputs differ from it, the step warns and changes nothing.
 */
export async function registerAgent(): Promise<void> {
  const baseUrl = baseUrlInput();
  const wanted: Wanted = {
    name: requiredInput('name', 'the name of the agent to register'),
    agentType: optionalInput('agent-type'),
    description: optionalInput('description'),
    allowedScopes: scopesInput('allowed-scopes'),
    owner: optionalInput('owner'),
    deploymentEnv: optionalInput('deployment-env'),
  };
  const organization = optionalInput('organization');
  const client = mandateClient(baseUrl, await registrarToken(baseUrl), organization);

  let agent = await findByName(client, baseUrl, wanted.name);
  let created = false;
  if (agent === undefined) {
    try {
      agent = await client.agents.create(creation(wanted));
      created = true;
    } catch (error) {
      // Another job registered it between the lookup and now: that one is the agent.
      if (!(error instanceof ConflictError && error.code === 'AGENT_NAME_TAKEN')) throw apiFailure(error, baseUrl, 'register the agent');
      agent = await findByName(client, baseUrl, wanted.name);
      if (agent === undefined) throw apiFailure(error, baseUrl, 'register the agent');
      core.info(`Another job registered the agent "${wanted.name}" at the same time.`);
    }
  }

  if (created) {
    core.info(`Registered the agent "${agent.name}" as ${agent.id} in the organization ${agent.orgId}.`);
  } else {
    core.info(`The agent "${agent.name}" is already registered as ${agent.id} (${agent.status}) in the organization ${agent.orgId}; it is left as it is.`);
    const differences = differencesFrom(agent, wanted);
    if (differences.length > 0) {
      core.warning(`The agent ${agent.id} differs from the inputs in ${differences.join('; ')}. This action does not change an existing agent: update it in Mandate if the inputs are right.`);
    }
    if (agent.status !== 'active') core.warning(`The agent ${agent.id} is ${agent.status}: it cannot obtain tokens until it is active again.`);
  }
  core.setOutput('agent-id', agent.id);
  core.setOutput('created', String(created));
  core.setOutput('status', agent.status);
}

/**
 * The registering agent's access token: the one given as the access-token input, or one
 * exchanged here for the job's ID token through the registrar agent's trust policy.
 */
async function registrarToken(baseUrl: string): Promise<string> {
  const given = optionalInput('access-token');
  if (given !== undefined) {
    // Normally masked already by the step that produced it; masking again costs nothing.
    core.setSecret(given);
    return given;
  }
  const agentId = optionalInput('registrar-agent-id');
  if (agentId === undefined) {
    throw new ActionFailure(
      'Give either the input registrar-agent-id (an agent with agents:read and agents:write whose trust policy accepts this job) or the input access-token (such as the output of mandate/actions/issue-token).',
    );
  }
  const idToken = await githubIdToken(optionalInput('audience') ?? baseUrl);
  const token = await exchangeIdToken({ baseUrl, idToken, agentId, scope: scopesInput('scope') ?? REGISTRAR_SCOPES });
  return token.accessToken;
}

/** The live (not decommissioned) agent of exactly this name: names are unique among those. */
async function findByName(client: Mandate, baseUrl: string, name: string): Promise<Agent | undefined> {
  try {
    // `q` is a case-insensitive substring (at most 100 characters): the exact name is picked here.
    for await (const agent of client.agents.list({ q: name.slice(0, 100), limit: 100 })) {
      if (agent.name === name && agent.status !== 'decommissioned') return agent;
    }
  } catch (error) {
    throw apiFailure(error, baseUrl, 'look the agent up by name');
  }
  return undefined;
}

function creation(wanted: Wanted): AgentCreate {
  return {
    name: wanted.name,
    agentType: wanted.agentType ?? 'autonomous',
    ...(wanted.description === undefined ? {} : { description: wanted.description }),
    ...(wanted.allowedScopes === undefined ? {} : { allowedScopes: wanted.allowedScopes }),
    ...(wanted.owner === undefined ? {} : { owner: wanted.owner }),
    ...(wanted.deploymentEnv === undefined ? {} : { deploymentEnv: wanted.deploymentEnv }),
  };
}

/** The given inputs that the existing agent does not match, described for the log. */
function differencesFrom(agent: Agent, wanted: Wanted): string[] {
  const differences: string[] = [];
  const compare = (input: string, want: string | undefined, have: string | null) => {
    if (want !== undefined && want !== have) differences.push(`${input} (input "${want}", agent ${have === null ? 'none' : `"${have}"`})`);
  };
  compare('agent-type', wanted.agentType, agent.agentType);
  compare('description', wanted.description, agent.description);
  compare('owner', wanted.owner, agent.owner);
  compare('deployment-env', wanted.deploymentEnv, agent.deploymentEnv);
  if (wanted.allowedScopes !== undefined) {
    const want = [...wanted.allowedScopes].sort();
    const have = [...agent.allowedScopes].sort();
    if (want.join(' ') !== have.join(' ')) differences.push(`allowed-scopes (input "${want.join(' ')}", agent "${have.join(' ')}")`);
  }
  return differences;
}

function apiFailure(error: unknown, baseUrl: string, doing: string): unknown {
  if (error instanceof APIError) return new ActionFailure(`Mandate refused to ${doing}: ${messageOf(error)}.`);
  if (error instanceof APIConnectionError) return new ActionFailure(`Cannot reach Mandate at ${baseUrl} to ${doing}: ${messageOf(error)}`);
  return error;
}
