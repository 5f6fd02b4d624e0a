-- Accounts, roles, API tokens and the session store.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    roles         TEXT[] NOT NULL DEFAULT '{}'
                  CHECK (roles <@ ARRAY['admin', 'release_captain', 'product_owner', 'engineer', 'viewer']::TEXT[]),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    -- Bumped whenever all of a user's sessions must end (password change, disabling).
    session_epoch INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- sha256 of the token; the token itself is shown once and never stored.
    token_hash   BYTEA NOT NULL UNIQUE,
    -- The first characters, so people can tell their tokens apart.
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- The layout tower-sessions-sqlx-store expects; created here so that every schema change is a
-- migration (the store's own `migrate()` is not used).
CREATE SCHEMA tower_sessions;
CREATE TABLE tower_sessions.session (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_expiry_date_idx ON tower_sessions.session (expiry_date);
