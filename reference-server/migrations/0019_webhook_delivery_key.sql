-- Deliveries are keyed by their endpoint and id: one index serves both finding a delivery and
-- listing an endpoint's deliveries newest first, where two did. Every delivery is inserted in
-- the transaction of the audit event it carries, so each index less is less work (and WAL)
-- on the hot paths' commits.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
ALTER TABLE webhook_deliveries ADD PRIMARY KEY (webhook_id, id);
DROP INDEX webhook_deliveries_webhook;
