import * as core from '@actions/core';
import { APIConnectionError, APIError, Mandate, type Logger } from '@mandate/sdk';
import { ActionFailure, messageOf } from './failure.js';
import { claimText, unverifiedClaims } from './jwt.js';

/** RFC 7523 §2.1: the external token is the authorization grant. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The SDK's log goes to the step's log: debug lines only when the run has debug logging on. */
const stepLog: Logger = {
  debug: (message, ...details) => {
    core.debug(withDetails(message, details));
  },
  info: (message, ...details) => {
    core.info(withDetails(message, details));
  },
  warn: (message, ...details) => {
    core.warning(withDetails(message, details));
  },
  error: (message, ...details) => {
    core.error(withDetails(message, details));
  },
};

function withDetails(message: string, details: unknown[]): string {
  return details.length === 0 ? message : `${message} ${details.map((detail) => JSON.stringify(detail)).join(' ')}`;
}

/**
 * A client of the Mandate API. It takes no credential from the environment (MANDATE_API_TOKEN
 * and the like are a later step's business): `apiToken` is the one given, or none.
 */
export function mandateClient(baseURL: string, apiToken: string | undefined, organization?: string): Mandate {
  return new Mandate({
    baseURL,
    apiToken: apiToken ?? '',
    ...(organization === undefined ? {} : { organization }),
    logger: stepLog,
    logLevel: core.isDebug() ? 'debug' : 'warn',
  });
}

export interface ExchangeRequest {
  baseUrl: string;
  /** The CI job's OIDC ID token. */
  idToken: string;
  /** The agent whose token is wanted: sent as client_id, so only its trust policies are considered. */
  agentId: string;
  scope?: string[] | undefined;
  resource?: string | undefined;
}

export interface AgentToken {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  scope: string;
  /** The token's subject, which is the agent. */
  agentId: string;
  /** The agent's organization (the token's `org` claim). */
  organization: string | undefined;
}

/**
 * Exchanges a CI job's ID token at Mandate's token endpoint (workload identity federation,
 * JWT bearer grant, no client authentication) for an access token of the agent. The access
 * token is masked in the step's log before this returns, so no caller can print it first.
 */
export async function exchangeIdToken(request: ExchangeRequest): Promise<AgentToken> {
  const client = mandateClient(request.baseUrl, undefined);
  let response;
  try {
    response = await client.oauth.issueToken({
      grant_type: JWT_BEARER_GRANT,
      assertion: request.idToken,
      client_id: request.agentId,
      ...(request.scope === undefined ? {} : { scope: request.scope.join(' ') }),
      ...(request.resource === undefined ? {} : { resource: request.resource }),
    });
  } catch (error) {
    throw exchangeFailure(error, request);
  }
  const accessToken: unknown = response.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') throw new ActionFailure('Mandate answered the token request without an access token.');
  core.setSecret(accessToken);

  const claims = unverifiedClaims(accessToken);
  const subject = claimText(claims, 'sub');
  if (subject !== request.agentId) {
    throw new ActionFailure(`Mandate issued a token for ${String(subject)}, not for the agent asked for (${request.agentId}).`);
  }
  return {
    accessToken,
    tokenType: response.token_type,
    expiresIn: response.expires_in,
    scope: response.scope,
    agentId: subject,
    organization: claimText(claims, 'org'),
  };
}

/** What went wrong, from Mandate's answer: its OAuth error and description, never a token. */
function exchangeFailure(error: unknown, request: ExchangeRequest): unknown {
  if (error instanceof APIConnectionError) return new ActionFailure(`Cannot reach Mandate at ${request.baseUrl}: ${messageOf(error)}`);
  if (!(error instanceof APIError)) return error;
  const body = typeof error.body === 'object' && error.body !== null ? (error.body as Record<string, unknown>) : {};
  const code = typeof body.error === 'string' ? body.error : undefined;
  if (code === undefined) return new ActionFailure(`Mandate answered the token request with ${messageOf(error)}.`);
  const description = typeof body.error_description === 'string' ? ` ${sentence(body.error_description)}` : '';
  let message = `Mandate refused to exchange the job's ID token for an access token of ${request.agentId}: ${code}.${description}`;
  if (code === 'invalid_grant') {
    // The claims that trust policies are matched on, so that the policy can be checked against them.
    const claims = unverifiedClaims(request.idToken);
    const shown = ['iss', 'aud', 'sub'].map((name) => `${name}=${claimText(claims, name) ?? '(none)'}`).join(' ');
    message += ` The ID token has ${shown}: a trust policy of ${request.agentId} must name that issuer and audience, and its conditions must match these claims.`;
  }
  return new ActionFailure(message);
}

/** Text as a sentence: with a full stop at the end unless it has one. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
