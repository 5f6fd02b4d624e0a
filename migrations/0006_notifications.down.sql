DROP TABLE calendar_feeds;
ALTER TABLE users DROP COLUMN lang, DROP COLUMN email_off;
UPDATE webhooks SET format = 'json' WHERE format = 'teams';
ALTER TABLE webhooks DROP CONSTRAINT webhooks_format_check,
    ADD CONSTRAINT webhooks_format_check CHECK (format IN ('json', 'slack')),
    DROP COLUMN events;
-- E-mails leave with the outbox; the webhook deliveries stay as they were.
DELETE FROM outbox WHERE channel <> 'webhook';
UPDATE outbox SET state = 'failed' WHERE state = 'skipped';
DROP INDEX outbox_release_pending_idx;
DROP INDEX outbox_dedupe_idx;
ALTER TABLE outbox DROP CONSTRAINT outbox_recipient_check,
    DROP COLUMN outcome, DROP COLUMN dedupe_key, DROP COLUMN condition,
    DROP COLUMN event_group, DROP COLUMN release_id, DROP COLUMN user_id, DROP COLUMN channel,
    ALTER COLUMN webhook_id SET NOT NULL,
    DROP CONSTRAINT outbox_state_check,
    ADD CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed'));
ALTER INDEX outbox_due_idx RENAME TO webhook_deliveries_due_idx;
ALTER TABLE outbox RENAME TO webhook_deliveries;
