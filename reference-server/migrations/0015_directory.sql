-- The public directory: agents their organizations chose to list, read by anyone. The
-- reads cross organizations, so they are functions that return only listed, active agents
-- of live organizations, and only what the directory and the agent card show (one agent by
-- p_id, or a page of them after p_after).
ALTER TABLE agents ADD COLUMN public boolean NOT NULL DEFAULT false;
CREATE INDEX agents_directory ON agents (id) WHERE public AND status = 'active';

CREATE FUNCTION mandate_directory_agents(p_id text, p_q text, p_capability text, p_after text, p_limit integer)
RETURNS TABLE (id text, name text, description text, version text, capabilities text[], metadata jsonb, org_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT a.id, a.name, a.description, a.version, a.capabilities, a.metadata, o.name
  FROM agents a JOIN orgs o ON o.id = a.org_id AND o.deleted_at IS NULL
  WHERE a.public AND a.status = 'active' AND a.id > p_after AND (p_id IS NULL OR a.id = p_id)
    AND (p_q IS NULL OR strpos(lower(a.name), lower(p_q)) > 0 OR strpos(lower(coalesce(a.description, '')), lower(p_q)) > 0)
    AND (p_capability IS NULL OR p_capability = ANY (a.capabilities))
  ORDER BY a.id
  LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION mandate_directory_agents(text, text, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_directory_agents(text, text, text, text, integer) TO mandate_app;
