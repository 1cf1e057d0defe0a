-- Token service, signing keys and the tamper-evident audit trail.

-- Signing keys are instance-wide. A key's status follows from its times alone (pending
-- before activates_at, retired after retired_at, published until published_until), so
-- every instance agrees on which key signs without talking to the others.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL CHECK (alg IN ('ES256', 'RS256', 'EdDSA')),
  public_jwk jsonb NOT NULL,
  private_key_encrypted bytea NOT NULL, -- AES-256-GCM under the key-encryption key
  created_at timestamptz NOT NULL DEFAULT now(),
  activates_at timestamptz NOT NULL,
  retired_at timestamptz,
  published_until timestamptz
);
GRANT SELECT, INSERT, UPDATE ON signing_keys TO mandate_app;

-- Revoked access tokens, kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
  jti text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id),
  agent_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
ALTER TABLE revoked_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY revoked_tokens_tenant ON revoked_tokens
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT ON revoked_tokens TO mandate_app;

-- One hash chain per organization ("chain" = the org id), plus the "instance" chain for
-- events that belong to no organization (e.g. a token that matches nothing).
CREATE TABLE audit_events (
  id text PRIMARY KEY,
  chain text NOT NULL,
  org_id text REFERENCES orgs (id),
  sequence bigint NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  actor_type text NOT NULL,
  actor_id text,
  target_type text,
  target_id text,
  ip text,
  user_agent text,
  request_id text,
  occurred_at timestamptz NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash text NOT NULL,
  UNIQUE (chain, sequence)
);
CREATE INDEX audit_events_agent ON audit_events (chain, target_id, sequence);
CREATE INDEX audit_events_time ON audit_events (occurred_at);

-- The head of each chain, locked to append. The anchor is where verification starts once
-- older events have been exported and pruned.
CREATE TABLE audit_chain_heads (
  chain text PRIMARY KEY,
  sequence bigint NOT NULL,
  hash text NOT NULL,
  anchor_sequence bigint NOT NULL DEFAULT 0,
  anchor_hash text NOT NULL
);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
-- A transaction sees the chain of its organization, or the instance chain when it has none.
CREATE POLICY audit_events_chain ON audit_events
  USING (chain = coalesce(nullif(current_setting('mandate.org_id', true), ''), 'instance'))
  WITH CHECK (chain = coalesce(nullif(current_setting('mandate.org_id', true), ''), 'instance'));
CREATE POLICY audit_chain_heads_chain ON audit_chain_heads
  USING (chain = coalesce(nullif(current_setting('mandate.org_id', true), ''), 'instance'))
  WITH CHECK (chain = coalesce(nullif(current_setting('mandate.org_id', true), ''), 'instance'));
-- Append-only: the server's role can add events but never change or remove one.
GRANT SELECT, INSERT ON audit_events TO mandate_app;
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO mandate_app;

-- Client authentication finds the credential by the public part of its secret before it
-- knows the organization: the second narrow door through row-level security.
CREATE FUNCTION mandate_find_client_credential(p_lookup text)
RETURNS TABLE (credential_id text, org_id text, agent_id text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, agent_status text, allowed_scopes text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT c.id, c.org_id, c.agent_id, c.secret_hash, c.expires_at, c.revoked_at, a.status, a.allowed_scopes
  FROM credentials c JOIN agents a ON a.org_id = c.org_id AND a.id = c.agent_id
  WHERE c.lookup = p_lookup
$$;

-- Token state for introspection: the agent's status and whether the token was revoked.
CREATE FUNCTION mandate_token_state(p_agent_id text, p_jti text)
RETURNS TABLE (agent_status text, revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT (SELECT status FROM agents WHERE id = p_agent_id),
         EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = p_jti)
$$;

-- Revocations still in force, to refill the cache after it lost them.
CREATE FUNCTION mandate_live_revocations()
RETURNS TABLE (jti text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > now()
$$;

CREATE FUNCTION mandate_touch_credential(p_id text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE credentials SET last_used_at = now()
  WHERE id = p_id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
$$;

REVOKE ALL ON FUNCTION mandate_find_client_credential(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_token_state(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_live_revocations() FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_touch_credential(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_client_credential(text) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_token_state(text, text) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_live_revocations() TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_touch_credential(text) TO mandate_app;
