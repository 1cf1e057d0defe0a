-- Dynamic client registration (RFC 7591, RFC 7592): the agents that registered themselves,
-- the registration access token that manages each (stored as an HMAC, like every secret),
-- and what the registration allows beyond the agent's record.
CREATE TABLE client_registrations (
  agent_id text PRIMARY KEY,
  org_id text NOT NULL,
  token_hash bytea NOT NULL,
  grant_types text[] NOT NULL,
  token_endpoint_auth_method text NOT NULL,
  -- The scopes the initial access token granted: an update by the client may not exceed them.
  max_scopes text[] NOT NULL,
  software_id text,
  contacts text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id)
);

ALTER TABLE client_registrations ENABLE ROW LEVEL SECURITY;
CREATE POLICY client_registrations_tenant ON client_registrations
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE ON client_registrations TO mandate_app;

-- RFC 7592 requests name the client and carry its registration access token, before the
-- organization is known.
CREATE FUNCTION mandate_find_client_registration(p_agent_id text)
RETURNS TABLE (org_id text, token_hash bytea, agent_status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT r.org_id, r.token_hash, a.status
  FROM client_registrations r JOIN agents a ON a.org_id = r.org_id AND a.id = r.agent_id
  WHERE r.agent_id = p_agent_id
$$;
REVOKE ALL ON FUNCTION mandate_find_client_registration(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_client_registration(text) TO mandate_app;
