import { type Grant, audienceOf, byAgent, narrowedScopes } from './grant';

/** RFC 6749 §4.4: the agent gets a token for itself, within its allowed scopes. */
export const clientCredentials: Grant = async ({ ctx, form, client, jkt }, deps) => {
  const scope = narrowedScopes(form.get('scope'), client.allowedScopes, 'The agent');
  const audience = audienceOf(form.get('resource'), deps.issuer);
  // The token is handed out only once its issuance is on the audit trail.
  const { token, claims } = await deps.tokens.issue(client, scope, audience, {
    jkt,
    record: (issued) => {
      const metadata = { jti: issued.jti, scope, aud: audience, method: client.method, credentialId: client.credentialId, exp: issued.exp };
      return deps.audit.append(byAgent(ctx, client, { action: 'token.issued', outcome: 'success', onItself: true, metadata }));
    },
  });
  deps.metrics.tokensIssued.inc();
  return { access_token: token, token_type: 'Bearer', expires_in: claims.exp - claims.iat, scope };
};
