-- Plans and usage. An organization has a plan (its quotas come from the server's
-- configuration) and may have its own quota overrides. Usage is counted per organization
-- and UTC day in the transaction that appends the audit events it derives from, so the
-- counts are exact and as durable as the audit trail itself.
ALTER TABLE orgs
  ADD COLUMN plan text NOT NULL DEFAULT 'enterprise' CHECK (plan IN ('free', 'pro', 'enterprise')),
  ADD COLUMN quota_overrides jsonb NOT NULL DEFAULT '{}';

CREATE TABLE usage_daily (
  org_id text NOT NULL REFERENCES orgs (id),
  day date NOT NULL,
  tokens_issued bigint NOT NULL DEFAULT 0,
  api_calls bigint NOT NULL DEFAULT 0,
  failed_authentications bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, day)
);

ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_daily_tenant ON usage_daily
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE ON usage_daily TO mandate_app;

-- Counted by a trigger, like the webhook outbox: once per appended batch of events, however
-- they were appended, in their transaction. A token exchange's token is the delegation it
-- records; API calls are the management API's bearer authentications (an agent's own
-- credentials at introspection are not); failed authentications are every `auth.failed`
-- the organization is known for.
CREATE FUNCTION mandate_count_usage() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO usage_daily AS u (org_id, day, tokens_issued, api_calls, failed_authentications)
  SELECT c.org_id, c.day, sum(c.tokens), sum(c.calls), sum(c.failures)
  FROM (
    SELECT e.org_id, (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
           (e.action IN ('token.issued', 'delegation.created') AND e.outcome = 'success')::int AS tokens,
           (e.action = 'auth.succeeded' AND e.metadata ->> 'method' IN ('access_token', 'admin_token'))::int AS calls,
           (e.action = 'auth.failed')::int AS failures
    FROM appended e
    WHERE e.org_id IS NOT NULL
  ) c
  WHERE c.tokens + c.calls + c.failures > 0
  GROUP BY c.org_id, c.day
  ORDER BY c.org_id, c.day -- one lock order for every writer
  ON CONFLICT (org_id, day) DO UPDATE SET
    tokens_issued = u.tokens_issued + excluded.tokens_issued,
    api_calls = u.api_calls + excluded.api_calls,
    failed_authentications = u.failed_authentications + excluded.failed_authentications;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION mandate_count_usage() FROM PUBLIC;

CREATE TRIGGER audit_events_usage
  AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS appended
  FOR EACH STATEMENT EXECUTE FUNCTION mandate_count_usage();

-- A client authentication that fails names the organization of the client id it presented,
-- so an organization sees (and counts) the failed attempts at its agents.
CREATE FUNCTION mandate_org_of_agent(p_agent_id text) RETURNS TABLE (org_id text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT a.org_id FROM agents a WHERE a.id = p_agent_id $$;
REVOKE ALL ON FUNCTION mandate_org_of_agent(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_org_of_agent(text) TO mandate_app;
