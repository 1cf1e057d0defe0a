-- The lookups on the token path run thousands of times a second. As LANGUAGE sql with
-- SECURITY DEFINER they cannot be inlined and their query is planned on every call;
-- PL/pgSQL keeps the plan for the session. Same results, same privileges.

CREATE OR REPLACE FUNCTION mandate_find_client_credential(p_lookup text)
RETURNS TABLE (credential_id text, org_id text, agent_id text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, agent_status text, allowed_scopes text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT c.id, c.org_id, c.agent_id, c.secret_hash, c.expires_at, c.revoked_at, a.status, a.allowed_scopes
  FROM credentials c JOIN agents a ON a.org_id = c.org_id AND a.id = c.agent_id
  WHERE c.lookup = p_lookup;
END
$$;

CREATE OR REPLACE FUNCTION mandate_find_admin_token(p_lookup text)
RETURNS TABLE (id text, org_id text, role text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, org_deleted boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT t.id, t.org_id, t.role, t.secret_hash, t.expires_at, t.revoked_at, o.deleted_at IS NOT NULL
  FROM admin_tokens t LEFT JOIN orgs o ON o.id = t.org_id
  WHERE t.lookup = p_lookup;
END
$$;

CREATE OR REPLACE FUNCTION mandate_token_state(p_agent_id text, p_jti text)
RETURNS TABLE (agent_status text, revoked boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT (SELECT a.status FROM agents a WHERE a.id = p_agent_id),
         EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = p_jti);
END
$$;
