-- An agent may be required to use DPoP (RFC 9449): its tokens are then always bound to a
-- key. The lookups of the token endpoint return the setting with the agent's state.
ALTER TABLE agents ADD COLUMN dpop_required boolean NOT NULL DEFAULT false;

DROP FUNCTION mandate_find_client_credential(text);
CREATE FUNCTION mandate_find_client_credential(p_lookup text)
RETURNS TABLE (credential_id text, org_id text, agent_id text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, agent_status text, allowed_scopes text[], dpop_required boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT c.id, c.org_id, c.agent_id, c.secret_hash, c.expires_at, c.revoked_at, a.status, a.allowed_scopes, a.dpop_required
  FROM credentials c JOIN agents a ON a.org_id = c.org_id AND a.id = c.agent_id
  WHERE c.lookup = p_lookup;
END
$$;
REVOKE ALL ON FUNCTION mandate_find_client_credential(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_client_credential(text) TO mandate_app;

DROP FUNCTION mandate_find_agent_keys(text);
CREATE FUNCTION mandate_find_agent_keys(p_agent_id text)
RETURNS TABLE (key_id text, org_id text, agent_id text, kid text, alg text, jwk jsonb,
               agent_status text, allowed_scopes text[], dpop_required boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT k.id, k.org_id, k.agent_id, k.kid, k.alg, k.jwk, a.status, a.allowed_scopes, a.dpop_required
  FROM agent_keys k JOIN agents a ON a.org_id = k.org_id AND a.id = k.agent_id
  WHERE k.agent_id = p_agent_id
  ORDER BY k.id;
END
$$;
REVOKE ALL ON FUNCTION mandate_find_agent_keys(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_agent_keys(text) TO mandate_app;

DROP FUNCTION mandate_find_trust_policies(text);
CREATE FUNCTION mandate_find_trust_policies(p_issuer text)
RETURNS TABLE (id text, org_id text, audience text, conditions jsonb, agent_id text, scopes text[],
               agent_status text, allowed_scopes text[], dpop_required boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT p.id, p.org_id, p.audience, p.conditions, p.agent_id, p.scopes, a.status, a.allowed_scopes, a.dpop_required
  FROM trust_policies p
  JOIN agents a ON a.org_id = p.org_id AND a.id = p.agent_id
  JOIN orgs o ON o.id = p.org_id AND o.deleted_at IS NULL
  WHERE p.issuer = p_issuer AND p.enabled
  ORDER BY p.id
$$;
REVOKE ALL ON FUNCTION mandate_find_trust_policies(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_trust_policies(text) TO mandate_app;
