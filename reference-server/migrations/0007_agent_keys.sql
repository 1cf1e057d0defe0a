-- Agents' public keys, with which they authenticate by private_key_jwt (RFC 7523 §2.2)
-- instead of a shared secret. Public material only: Mandate never holds the private key.
CREATE TABLE agent_keys (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  agent_id text NOT NULL,
  -- What an assertion's `kid` header names: the client's own key id, else the thumbprint.
  kid text NOT NULL,
  -- RFC 7638 SHA-256 thumbprint: the same key is registered once per agent.
  thumbprint text NOT NULL,
  alg text NOT NULL CHECK (alg IN ('ES256', 'EdDSA', 'RS256', 'PS256')),
  jwk jsonb NOT NULL,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id),
  UNIQUE (agent_id, thumbprint),
  UNIQUE (agent_id, kid)
);
CREATE INDEX agent_keys_agent_order ON agent_keys (org_id, agent_id, id);

ALTER TABLE agent_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY agent_keys_tenant ON agent_keys
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON agent_keys TO mandate_app;

-- Client authentication finds an agent's keys from the assertion's `iss` before it knows the
-- organization: another narrow door through row-level security, for one agent's public keys.
CREATE FUNCTION mandate_find_agent_keys(p_agent_id text)
RETURNS TABLE (key_id text, org_id text, agent_id text, kid text, alg text, jwk jsonb,
               agent_status text, allowed_scopes text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT k.id, k.org_id, k.agent_id, k.kid, k.alg, k.jwk, a.status, a.allowed_scopes
  FROM agent_keys k JOIN agents a ON a.org_id = k.org_id AND a.id = k.agent_id
  WHERE k.agent_id = p_agent_id
  ORDER BY k.id;
END
$$;

-- Records a use, at most once a minute per key.
CREATE FUNCTION mandate_touch_agent_key(p_id text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE agent_keys SET last_used_at = now()
  WHERE id = p_id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
$$;

REVOKE ALL ON FUNCTION mandate_find_agent_keys(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_touch_agent_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_agent_keys(text) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_touch_agent_key(text) TO mandate_app;
