import * as core from '@actions/core';
import { ActionFailure } from '../lib/failure.js';
import { githubIdToken } from '../lib/github-oidc.js';
import { baseUrlInput, envNameInput, optionalInput, requiredInput, scopesInput } from '../lib/inputs.js';
import { exchangeIdToken } from '../lib/mandate.js';

/**
 * issue-token: the job's OIDC ID token, exchanged through a trust policy for an access token
 * of the agent. Masked before anything else happens to it, then set as the step's outputs
 * and, when asked, exported to later steps.
 */
export async function issueToken(): Promise<void> {
  const baseUrl = baseUrlInput();
  const agentId = requiredInput('agent-id', "the id of the agent (agt_…) whose trust policy accepts this job's ID token");
  const audience = optionalInput('audience') ?? baseUrl;
  const scope = scopesInput('scope');
  const resource = optionalInput('resource');
  const organization = optionalInput('organization');
  const exportEnv = envNameInput('export-env');

  const idToken = await githubIdToken(audience);
  const token = await exchangeIdToken({ baseUrl, idToken, agentId, scope, resource });
  if (organization !== undefined && token.organization !== organization) {
    throw new ActionFailure(`The agent ${agentId} belongs to the organization ${String(token.organization)}, not to ${organization} as the input organization requires.`);
  }

  core.setOutput('access-token', token.accessToken);
  core.setOutput('expires-in', String(token.expiresIn));
  core.setOutput('expires-at', new Date(Date.now() + token.expiresIn * 1000).toISOString());
  core.setOutput('scope', token.scope);
  if (exportEnv !== undefined) core.exportVariable(exportEnv, token.accessToken);

  const where = token.organization === undefined ? '' : ` of the organization ${token.organization}`;
  const exported = exportEnv === undefined ? '' : `; later steps find it in $${exportEnv}`;
  core.info(`Mandate issued an access token for the agent ${token.agentId}${where}: scope "${token.scope}", expires in ${token.expiresIn} s${exported}.`);
}
