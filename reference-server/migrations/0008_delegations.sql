-- Delegations: each token exchange (RFC 8693) by which one agent (the actor) obtained a token
-- to act for another (the subject). A delegation made with a delegated token names the
-- one it came from; revoking a delegation revokes its descendants in the same transaction.
CREATE TABLE delegations (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  subject_agent_id text NOT NULL,
  actor_agent_id text NOT NULL,
  parent_id text REFERENCES delegations (id),
  depth integer NOT NULL CHECK (depth >= 1),
  scope text NOT NULL,
  -- The access token the exchange issued.
  jti text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  FOREIGN KEY (org_id, subject_agent_id) REFERENCES agents (org_id, id),
  FOREIGN KEY (org_id, actor_agent_id) REFERENCES agents (org_id, id)
);
CREATE INDEX delegations_org_order ON delegations (org_id, id);
CREATE INDEX delegations_parent ON delegations (parent_id) WHERE parent_id IS NOT NULL;

ALTER TABLE delegations ENABLE ROW LEVEL SECURITY;
CREATE POLICY delegations_tenant ON delegations
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE ON delegations TO mandate_app;

-- Token state of a delegated token: whether every agent of its chain is active, and whether
-- the token or its delegation was revoked. Read before the organization is known.
CREATE FUNCTION mandate_delegated_token_state(p_agent_ids text[], p_jti text, p_delegation_id text)
RETURNS TABLE (all_active boolean, revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT (SELECT count(*) FROM agents WHERE id = ANY (p_agent_ids) AND status = 'active')
           = (SELECT count(DISTINCT a) FROM unnest(p_agent_ids) AS a),
         EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = p_jti)
           OR EXISTS (SELECT 1 FROM delegations WHERE id = p_delegation_id AND revoked_at IS NOT NULL)
$$;

-- Revocations still in force, to refill the cache: revoked delegations count too.
CREATE OR REPLACE FUNCTION mandate_live_revocations()
RETURNS TABLE (jti text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > now()
  UNION ALL
  SELECT id, expires_at FROM delegations WHERE revoked_at IS NOT NULL AND expires_at > now()
$$;

REVOKE ALL ON FUNCTION mandate_delegated_token_state(text[], text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_delegated_token_state(text[], text, text) TO mandate_app;
