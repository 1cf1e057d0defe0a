-- Client authentication looks its credentials up in batches: the token requests that arrive
-- within one event-loop turn share one call (src/domain/clients.ts) instead of a round trip
-- each. The same narrow door through row-level security as mandate_find_client_credential,
-- which stays for instances of the previous release during a rolling upgrade; each row says
-- which lookup it answers.
CREATE FUNCTION mandate_find_client_credentials(p_lookups text[])
RETURNS TABLE (matched_lookup text, credential_id text, org_id text, agent_id text, secret_hash bytea,
               expires_at timestamptz, revoked_at timestamptz, agent_status text, allowed_scopes text[],
               dpop_required boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT c.lookup, c.id, c.org_id, c.agent_id, c.secret_hash, c.expires_at, c.revoked_at, a.status, a.allowed_scopes,
         a.dpop_required OR o.dpop_required
  FROM credentials c
  JOIN agents a ON a.org_id = c.org_id AND a.id = c.agent_id
  JOIN orgs o ON o.id = c.org_id
  WHERE c.lookup = ANY (p_lookups);
END
$$;

REVOKE ALL ON FUNCTION mandate_find_client_credentials(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_client_credentials(text[]) TO mandate_app;
