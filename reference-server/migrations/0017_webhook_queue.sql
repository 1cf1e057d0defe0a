-- The webhook queue under a steady stream of deliveries.
--
-- A delivery is claimed (claimed_until set) and then recorded: leaving half of each page free
-- lets the claim update the row in place (a heap-only tuple: claimed_until is in no index),
-- so a claim writes no index entry and leaves none dead in the due index for the next
-- claim to step over.
ALTER TABLE webhook_deliveries SET (fillfactor = 50);

-- The pending deliveries of a switched-off endpoint wait, possibly for days: they are paused
-- and leave the due index, so that claims do not read past them all every time. They are
-- resumed when the endpoint is switched on again. Tests are sent even to a switched-off one.
ALTER TABLE webhook_deliveries ADD COLUMN paused boolean NOT NULL DEFAULT false;
UPDATE webhook_deliveries d SET paused = true
FROM webhooks w
WHERE w.id = d.webhook_id AND NOT w.enabled AND d.status = 'pending' AND d.action <> 'webhook.tested';
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending' AND NOT paused;
