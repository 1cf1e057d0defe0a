-- The outbox trigger inserts a delivery row per matching webhook for every appended audit
-- event. Its foreign key to webhooks made each of those rows check, and lock (KEY SHARE),
-- its webhook's row: about 15 % of token issuance with one webhook on token.issued. The
-- rows are written only by the trigger, which reads the webhooks it inserts for; deleting
-- a webhook deletes its deliveries itself, and maintenance removes the few a delete racing
-- a trigger can leave behind (the worker never claims them: it joins webhooks).
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_webhook_id_fkey;
