-- Workload identity federation: which external OIDC issuers' tokens are exchanged for an
-- agent's access tokens (trust policies), and which identity providers' tokens an
-- organization verifies (federation partners).
CREATE TABLE trust_policies (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  name text NOT NULL,
  description text,
  issuer text NOT NULL,
  audience text NOT NULL,
  -- Claim name -> exact value or glob; always with a `sub` condition.
  conditions jsonb NOT NULL CHECK (conditions ? 'sub'),
  agent_id text NOT NULL,
  scopes text[] NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id)
);
CREATE INDEX trust_policies_org_order ON trust_policies (org_id, id);
CREATE INDEX trust_policies_issuer ON trust_policies (issuer) WHERE enabled;

ALTER TABLE trust_policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY trust_policies_tenant ON trust_policies
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON trust_policies TO mandate_app;

-- An external token names its issuer, not an organization: the exchange finds the enabled
-- policies for that issuer in every organization, with their agents' state, through this
-- narrow door in row-level security.
CREATE FUNCTION mandate_find_trust_policies(p_issuer text)
RETURNS TABLE (id text, org_id text, audience text, conditions jsonb, agent_id text, scopes text[],
               agent_status text, allowed_scopes text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT p.id, p.org_id, p.audience, p.conditions, p.agent_id, p.scopes, a.status, a.allowed_scopes
  FROM trust_policies p
  JOIN agents a ON a.org_id = p.org_id AND a.id = p.agent_id
  JOIN orgs o ON o.id = p.org_id AND o.deleted_at IS NULL
  WHERE p.issuer = p_issuer AND p.enabled
  ORDER BY p.id
$$;
REVOKE ALL ON FUNCTION mandate_find_trust_policies(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_find_trust_policies(text) TO mandate_app;

CREATE TABLE federation_partners (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id),
  name text NOT NULL,
  issuer text NOT NULL,
  jwks_uri text NOT NULL,
  algorithms text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, issuer)
);
CREATE INDEX federation_partners_org_order ON federation_partners (org_id, id);

ALTER TABLE federation_partners ENABLE ROW LEVEL SECURITY;
CREATE POLICY federation_partners_tenant ON federation_partners
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, DELETE ON federation_partners TO mandate_app;
