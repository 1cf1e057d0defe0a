-- Webhooks: endpoints that receive an organization's audit events, and the outbox of
-- deliveries. A delivery is queued by a trigger on audit_events, so it commits (or rolls
-- back) with the event it carries, whichever path appended the event.

CREATE TABLE webhooks (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id),
  url text NOT NULL,
  -- Exact actions or `resource.*`; empty: every action.
  events text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  description text,
  -- AES-256-GCM under the key-encryption key: signing needs the secret itself, so it cannot
  -- be stored as a hash the way client secrets are.
  secret_sealed bytea NOT NULL,
  previous_secret_sealed bytea,
  previous_secret_until timestamptz,
  secret_rotated_at timestamptz,
  disabled_reason text CHECK (disabled_reason IN ('failing')),
  failing_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_org ON webhooks (org_id, id);

CREATE TABLE webhook_deliveries (
  -- 'whd_' + the event id's time part + 16 hex digits of md5(event id, webhook id): stable,
  -- unique per event and endpoint, and time-ordered like every other id.
  id text PRIMARY KEY,
  org_id text NOT NULL,
  webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  -- No foreign key: audit events are pruned after their retention, deliveries need not be.
  event_id text NOT NULL,
  action text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt_count integer NOT NULL DEFAULT 0,
  -- Attempts this delivery may make before it is dead-lettered; null: the server's default.
  attempts_allowed integer,
  next_attempt_at timestamptz,
  -- A worker that claimed the delivery holds it until then (a crashed worker's claim lapses).
  claimed_until timestamptz,
  attempts jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhooks_tenant ON webhooks
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
CREATE POLICY webhook_deliveries_tenant ON webhook_deliveries
  USING (org_id = current_setting('mandate.org_id', true))
  WITH CHECK (org_id = current_setting('mandate.org_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks, webhook_deliveries TO mandate_app;

-- The outbox: one statement per appended batch of events, however they were appended (the
-- request's transaction, the group-commit function, the locked path). SECURITY DEFINER so
-- that it reads every matching endpoint of the events' organization; `webhook.tested` goes
-- to the tested endpoint alone, whatever its events and even while it is switched off.
CREATE FUNCTION mandate_enqueue_webhook_deliveries() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, action, next_attempt_at)
  SELECT 'whd_' || substr(e.id, 5, 10) || substr(md5(e.id || '/' || w.id), 1, 16),
         e.org_id, w.id, e.id, e.action, now()
  FROM appended e
  JOIN webhooks w ON w.org_id = e.org_id
  WHERE CASE
    WHEN e.action = 'webhook.tested' THEN e.target_type = 'webhook' AND e.target_id = w.id
    ELSE w.enabled AND (cardinality(w.events) = 0
                        OR e.action = ANY (w.events)
                        OR split_part(e.action, '.', 1) || '.*' = ANY (w.events))
  END;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION mandate_enqueue_webhook_deliveries() FROM PUBLIC;

CREATE TRIGGER audit_events_webhook_outbox
  AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS appended
  FOR EACH STATEMENT EXECUTE FUNCTION mandate_enqueue_webhook_deliveries();
