-- Foundation: organizations, admin tokens, agents, credentials, idempotency keys.
--
-- Requests run as the unprivileged role mandate_app (never a superuser, never the table
-- owner), with the caller's organization in the setting mandate.org_id. Row-level
-- security then hides every other organization's rows, even from a query that forgot
-- its WHERE clause.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mandate_app') THEN
    CREATE ROLE mandate_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
-- The connecting (owner) user switches to mandate_app per transaction.
GRANT mandate_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO mandate_app;

CREATE TABLE instance_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  bootstrapped_at timestamptz
);
INSERT INTO instance_state (singleton) VALUES (true);

CREATE TABLE orgs (
  id text PRIMARY KEY,
  name text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE admin_tokens (
  id text PRIMARY KEY,
  org_id text REFERENCES orgs (id), -- NULL: the instance-admin token
  role text NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
  label text NOT NULL,
  lookup text NOT NULL UNIQUE,       -- public part of the token, to find the row
  secret_hash bytea NOT NULL,        -- HMAC-SHA256(pepper, token)
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX admin_tokens_org ON admin_tokens (org_id, id);

CREATE TABLE agents (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id),
  name text NOT NULL,
  description text,
  agent_type text NOT NULL,
  version text,
  capabilities text[] NOT NULL DEFAULT '{}',
  owner text,
  deployment_env text NOT NULL,
  allowed_scopes text[] NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('active', 'suspended', 'decommissioned')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  suspended_at timestamptz,
  decommissioned_at timestamptz,
  UNIQUE (org_id, id)
);
-- Names are unique among the organization's live agents; a decommissioned name may be reused.
CREATE UNIQUE INDEX agents_live_name ON agents (org_id, name) WHERE status <> 'decommissioned';
CREATE INDEX agents_org_order ON agents (org_id, id);

CREATE TABLE credentials (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  agent_id text NOT NULL,
  label text,
  lookup text NOT NULL UNIQUE,
  secret_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  rotated_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  -- A credential can only belong to an agent of its own organization.
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id)
);
CREATE INDEX credentials_agent_order ON credentials (org_id, agent_id, id);

CREATE TABLE idempotency_keys (
  principal_id text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal_id, idempotency_key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY orgs_tenant ON orgs
  USING (id = current_setting('mandate.org_id', true)
         OR current_setting('mandate.instance_admin', true) = 'on')
  WITH CHECK (id = current_setting('mandate.org_id', true)
         OR current_setting('mandate.instance_admin', true) = 'on');
CREATE POLICY admin_tokens_tenant ON admin_tokens
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
CREATE POLICY agents_tenant ON agents
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
CREATE POLICY credentials_tenant ON credentials
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
CREATE POLICY idempotency_keys_principal ON idempotency_keys
  USING (principal_id = current_setting('mandate.principal_id', true))
  WITH CHECK (principal_id = current_setting('mandate.principal_id', true));

GRANT SELECT, INSERT, UPDATE ON orgs, admin_tokens, agents, credentials TO mandate_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO mandate_app;

-- Authentication must find a token before it knows the organization. This is the one
-- narrow door through row-level security: it returns the single row whose lookup matches.
CREATE FUNCTION mandate_find_admin_token(p_lookup text)
RETURNS TABLE (id text, org_id text, role text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, org_deleted boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT t.id, t.org_id, t.role, t.secret_hash, t.expires_at, t.revoked_at, o.deleted_at IS NOT NULL
  FROM admin_tokens t LEFT JOIN orgs o ON o.id = t.org_id
  WHERE t.lookup = p_lookup
$$;

-- Records a use, at most once a minute per token, so reads do not all turn into writes.
CREATE FUNCTION mandate_touch_admin_token(p_id text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE admin_tokens SET last_used_at = now()
  WHERE id = p_id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
$$;

REVOKE ALL ON FUNCTION mandate_find_admin_token(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mandate_touch_admin_token(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_admin_token(text) TO mandate_app;
GRANT EXECUTE ON FUNCTION mandate_touch_admin_token(text) TO mandate_app;
