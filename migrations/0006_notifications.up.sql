-- Reaching the signers: one outbox for every e-mail and webhook delivery (the alert
-- webhook deliveries become its first rows), the team channels' choice of events, each
-- person's e-mail choices and language, and the secret calendar feed tokens.

ALTER TABLE webhook_deliveries RENAME TO outbox;
ALTER INDEX webhook_deliveries_due_idx RENAME TO outbox_due_idx;
ALTER TABLE outbox RENAME CONSTRAINT webhook_deliveries_state_check TO outbox_state_check;
ALTER TABLE outbox
    DROP CONSTRAINT outbox_state_check,
    ADD CONSTRAINT outbox_state_check
        CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    ALTER COLUMN webhook_id DROP NOT NULL,
    -- `email` rows go to a person (`user_id`), `webhook` rows to a team channel.
    ADD COLUMN channel     TEXT NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'email')),
    ADD COLUMN user_id     BIGINT REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN release_id  BIGINT REFERENCES releases (id) ON DELETE CASCADE,
    -- The group a person or a channel subscribes to (`assignment`, `staging_gate`,
    -- `go_no_go`, `go_live`, `alerts`).
    ADD COLUMN event_group TEXT NOT NULL DEFAULT 'alerts',
    -- A reminder's condition, judged again when it is due: it is skipped when it no longer
    -- holds (see `domain::notify::Condition`).
    ADD COLUMN condition   JSONB,
    -- Each notice once: the same event for the same recipient is queued at most once.
    ADD COLUMN dedupe_key  TEXT,
    -- Why a row was skipped, or the last failure.
    ADD COLUMN outcome     TEXT,
    ADD CONSTRAINT outbox_recipient_check CHECK (
        (channel = 'webhook' AND webhook_id IS NOT NULL AND user_id IS NULL)
        OR (channel = 'email' AND user_id IS NOT NULL AND webhook_id IS NULL));
ALTER TABLE outbox ALTER COLUMN channel DROP DEFAULT, ALTER COLUMN event_group DROP DEFAULT;
CREATE UNIQUE INDEX outbox_dedupe_idx ON outbox (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX outbox_release_pending_idx ON outbox (release_id) WHERE state = 'pending';

-- Which event groups a team channel gets; Teams-compatible message cards.
ALTER TABLE webhooks
    ADD COLUMN events TEXT[] NOT NULL
        DEFAULT ARRAY['staging_gate', 'go_no_go', 'go_live', 'alerts']
        CHECK (events <@ ARRAY['assignment', 'staging_gate', 'go_no_go', 'go_live', 'alerts']::TEXT[]),
    DROP CONSTRAINT webhooks_format_check,
    ADD CONSTRAINT webhooks_format_check CHECK (format IN ('json', 'slack', 'teams'));

-- A person's e-mail choices (the groups they turned off; every group is on by default)
-- and the language their e-mails are written in.
ALTER TABLE users
    ADD COLUMN email_off TEXT[] NOT NULL DEFAULT '{}'
        CHECK (email_off <@ ARRAY['assignment', 'staging_gate', 'go_no_go', 'go_live', 'alerts']::TEXT[]),
    ADD COLUMN lang TEXT NOT NULL DEFAULT 'de' CHECK (lang IN ('de', 'en'));

-- Secret calendar feed tokens: separate from API tokens (a calendar app holds them in a
-- URL), one person's feed or, for admins, the team's; revocable.
CREATE TABLE calendar_feeds (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL CHECK (scope IN ('personal', 'team')),
    -- sha256 of the token; the token itself is shown to its owner and not stored.
    token_hash BYTEA NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX calendar_feeds_user_idx ON calendar_feeds (user_id) WHERE revoked_at IS NULL;
