-- An organization may require DPoP (RFC 9449) of all its agents. The token endpoint's
-- lookups answer whether a token must be bound: the agent's setting or its organization's.
ALTER TABLE orgs ADD COLUMN dpop_required boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION mandate_find_client_credential(p_lookup text)
RETURNS TABLE (credential_id text, org_id text, agent_id text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, agent_status text, allowed_scopes text[], dpop_required boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT c.id, c.org_id, c.agent_id, c.secret_hash, c.expires_at, c.revoked_at, a.status, a.allowed_scopes,
         a.dpop_required OR o.dpop_required
  FROM credentials c
  JOIN agents a ON a.org_id = c.org_id AND a.id = c.agent_id
  JOIN orgs o ON o.id = c.org_id
  WHERE c.lookup = p_lookup;
END
$$;

CREATE OR REPLACE FUNCTION mandate_find_agent_keys(p_agent_id text)
RETURNS TABLE (key_id text, org_id text, agent_id text, kid text, alg text, jwk jsonb,
               agent_status text, allowed_scopes text[], dpop_required boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT k.id, k.org_id, k.agent_id, k.kid, k.alg, k.jwk, a.status, a.allowed_scopes,
         a.dpop_required OR o.dpop_required
  FROM agent_keys k
  JOIN agents a ON a.org_id = k.org_id AND a.id = k.agent_id
  JOIN orgs o ON o.id = k.org_id
  WHERE k.agent_id = p_agent_id
  ORDER BY k.id;
END
$$;

CREATE OR REPLACE FUNCTION mandate_find_trust_policies(p_issuer text)
RETURNS TABLE (id text, org_id text, audience text, conditions jsonb, agent_id text, scopes text[],
               agent_status text, allowed_scopes text[], dpop_required boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT p.id, p.org_id, p.audience, p.conditions, p.agent_id, p.scopes, a.status, a.allowed_scopes,
         a.dpop_required OR o.dpop_required
  FROM trust_policies p
  JOIN agents a ON a.org_id = p.org_id AND a.id = p.agent_id
  JOIN orgs o ON o.id = p.org_id AND o.deleted_at IS NULL
  WHERE p.issuer = p_issuer AND p.enabled
  ORDER BY p.id
$$;
