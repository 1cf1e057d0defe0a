-- Human approval of agents (RFC 8628 device authorization): how each agent's requests are
-- decided, and the requests themselves.
ALTER TABLE agents ADD COLUMN trust_level text NOT NULL DEFAULT 'unknown' CHECK (trust_level IN ('trusted', 'unknown', 'blocked'));

CREATE TABLE approvals (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id),
  kind text NOT NULL CHECK (kind IN ('registration', 'authentication')),
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
  -- The agent asking (authentication), or the one its approval created (registration).
  agent_id text,
  name text NOT NULL,
  key_thumbprint text,
  public_jwk jsonb,
  -- Shown to the person; unique so that a code read aloud names one request.
  user_code text NOT NULL UNIQUE,
  -- SHA-256 of the device code: the agent's polling secret is never stored.
  device_code_hash text NOT NULL UNIQUE,
  requested_scopes text[] NOT NULL,
  granted_scopes text[],
  impersonation_suspected boolean NOT NULL DEFAULT false,
  impersonation_reason text,
  poll_interval_seconds integer NOT NULL,
  last_polled_at timestamptz,
  token_issued_at timestamptz,
  decided_at timestamptz,
  decided_by text,
  denial_reason text,
  ip text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id)
);
CREATE INDEX approvals_org_status_order ON approvals (org_id, status, id);

ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY approvals_tenant ON approvals
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE ON approvals TO mandate_app;

-- A device authorization request names an agent by id or by one of its registered keys,
-- before the organization is known.
CREATE FUNCTION mandate_find_device_agents(p_agent_id text, p_thumbprint text)
RETURNS TABLE (id text, org_id text, name text, status text, trust_level text, allowed_scopes text[], has_key boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT a.id, a.org_id, a.name, a.status, a.trust_level, a.allowed_scopes,
         p_thumbprint IS NOT NULL AND EXISTS (SELECT 1 FROM agent_keys k WHERE k.agent_id = a.id AND k.thumbprint = p_thumbprint)
  FROM agents a JOIN orgs o ON o.id = a.org_id AND o.deleted_at IS NULL
  WHERE a.id = p_agent_id OR a.id IN (SELECT k.agent_id FROM agent_keys k WHERE k.thumbprint = p_thumbprint)
  ORDER BY a.id
$$;

-- One poll of the token endpoint with a device code (RFC 8628 §3.4, §3.5): records it, slows
-- down a client that polls faster than its interval, and says where the request stands.
CREATE FUNCTION mandate_poll_device_code(p_device_code_hash text)
RETURNS TABLE (outcome text, approval_id text, org_id text, agent_id text, granted_scopes text[], poll_interval_seconds integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v approvals%ROWTYPE;
BEGIN
  SELECT * INTO v FROM approvals a WHERE a.device_code_hash = p_device_code_hash FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  approval_id := v.id; org_id := v.org_id; agent_id := v.agent_id; granted_scopes := v.granted_scopes;
  poll_interval_seconds := v.poll_interval_seconds;
  IF v.token_issued_at IS NOT NULL THEN
    outcome := 'used';
  ELSIF v.status = 'denied' THEN
    outcome := 'denied';
  ELSIF v.expires_at <= now() THEN
    outcome := 'expired';
  ELSIF v.status = 'approved' THEN
    outcome := 'approved';
  ELSIF v.last_polled_at IS NOT NULL AND now() < v.last_polled_at + make_interval(secs => v.poll_interval_seconds) THEN
    -- §3.5: the interval grows by 5 seconds for this and every later request.
    poll_interval_seconds := v.poll_interval_seconds + 5;
    UPDATE approvals a SET poll_interval_seconds = v.poll_interval_seconds + 5, last_polled_at = now() WHERE a.id = v.id;
    outcome := 'slow_down';
  ELSE
    UPDATE approvals a SET last_polled_at = now() WHERE a.id = v.id;
    outcome := 'pending';
  END IF;
  RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION mandate_find_device_agents(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_poll_device_code(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_device_agents(text, text) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_poll_device_code(text) TO mandate_app;
