import * as core from '@actions/core';
import { ActionFailure, messageOf } from './failure.js';

/**
 * The job's OIDC ID token for `audience`, from the runner (ACTIONS_ID_TOKEN_REQUEST_URL,
 * with ACTIONS_ID_TOKEN_REQUEST_TOKEN as the bearer). @actions/core masks it in the log
 * before it returns it.
 */
export async function githubIdToken(audience: string): Promise<string> {
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL || !process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new ActionFailure(
      'This job cannot request an OIDC ID token: ACTIONS_ID_TOKEN_REQUEST_URL is not set. Add "permissions: id-token: write" to the job (or the workflow). ' +
        'Workflows run for pull requests from forks never get an ID token.',
    );
  }
  try {
    return await core.getIDToken(audience);
  } catch (error) {
    throw new ActionFailure(`The runner gave no ID token for the audience ${audience}: ${messageOf(error)}`);
  }
}
