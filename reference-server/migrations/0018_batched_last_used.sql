-- "Last used" is written once a second for every id noted meanwhile, off the request path
-- (src/domain/use-recorder.ts), instead of one commit per request for each newly seen id.
CREATE FUNCTION mandate_touch_credentials(p_ids text[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE credentials SET last_used_at = now()
  WHERE id = ANY (p_ids) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
$$;

CREATE FUNCTION mandate_touch_agent_keys(p_ids text[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE agent_keys SET last_used_at = now()
  WHERE id = ANY (p_ids) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
$$;

CREATE FUNCTION mandate_touch_admin_tokens(p_ids text[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE admin_tokens SET last_used_at = now()
  WHERE id = ANY (p_ids) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
$$;

REVOKE ALL ON FUNCTION mandate_touch_credentials(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_touch_agent_keys(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_touch_admin_tokens(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_touch_credentials(text[]) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_touch_agent_keys(text[]) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_touch_admin_tokens(text[]) TO mandate_app;

-- The one-id functions stay for instances of the previous version during a rolling upgrade.

-- Room on each page, so that setting last_used_at (in no index) updates the row in place.
ALTER TABLE credentials SET (fillfactor = 90);
ALTER TABLE agent_keys SET (fillfactor = 90);
ALTER TABLE admin_tokens SET (fillfactor = 90);
