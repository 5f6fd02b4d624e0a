-- Releases with their checklists, known issues, Go/No-Go sign-offs, deployments,
-- environment checks, and the append-only, hash-chained audit log.

CREATE TABLE checklist_template_items (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live')),
    position          INTEGER NOT NULL,
    key               TEXT NOT NULL CHECK (key ~ '^[a-z0-9_]{1,64}$'),
    section_de        TEXT NOT NULL,
    section_en        TEXT NOT NULL,
    text_de           TEXT NOT NULL CHECK (length(text_de) BETWEEN 1 AND 500),
    text_en           TEXT NOT NULL CHECK (length(text_en) BETWEEN 1 AND 500),
    evidence_required BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (key)
);
CREATE INDEX checklist_template_items_kind_idx ON checklist_template_items (kind, position);

CREATE TABLE releases (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title               TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    version             TEXT NOT NULL CHECK (length(version) BETWEEN 1 AND 100),
    artifact_version    TEXT,
    commit_sha          TEXT,
    environment         TEXT NOT NULL,
    staging_environment TEXT NOT NULL DEFAULT 'staging',
    window_start        TIMESTAMPTZ NOT NULL,
    window_end          TIMESTAMPTZ NOT NULL,
    strategy            TEXT NOT NULL DEFAULT 'blue_green' CHECK (strategy IN ('blue_green', 'canary')),
    canary_stages       INTEGER[] NOT NULL DEFAULT '{10,50,100}',
    canary_hold_minutes INTEGER NOT NULL DEFAULT 30 CHECK (canary_hold_minutes >= 0),
    links               JSONB NOT NULL DEFAULT '{}',
    release_captain_id  BIGINT REFERENCES users (id),
    product_owner_id    BIGINT REFERENCES users (id),
    phase               TEXT NOT NULL DEFAULT 'draft'
                        CHECK (phase IN ('draft', 'staging_gate', 'go_no_go', 'go_live', 'done', 'no_go', 'rolled_back')),
    last_backup_at       TIMESTAMPTZ,
    last_restore_test_at TIMESTAMPTZ,
    on_call              TEXT,
    required_env_vars   TEXT[] NOT NULL DEFAULT ARRAY['MONGODB_URI', 'AUTH_SECRET', 'AWS_ACCESS_KEY_ID',
                            'AWS_SECRET_ACCESS_KEY', 'FILE_STORAGE_MODE', 'AWS_REGION', 'LOG_ENDPOINT',
                            'OTEL_EXPORTER_OTLP_ENDPOINT'],
    -- Optimistic locking: every write names the revision it read.
    revision            INTEGER NOT NULL DEFAULT 1,
    created_by          BIGINT REFERENCES users (id),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (window_end > window_start)
);
CREATE INDEX releases_phase_window_idx ON releases (phase, window_start);

CREATE TABLE checklist_items (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id        BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live')),
    position          INTEGER NOT NULL,
    key               TEXT NOT NULL,
    section_de        TEXT NOT NULL,
    section_en        TEXT NOT NULL,
    text_de           TEXT NOT NULL,
    text_en           TEXT NOT NULL,
    evidence_required BOOLEAN NOT NULL,
    state             TEXT NOT NULL DEFAULT 'open'
                      CHECK (state IN ('open', 'passed', 'failed', 'not_applicable', 'accepted_risk')),
    note              TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    links             TEXT[] NOT NULL DEFAULT '{}',
    updated_by        BIGINT REFERENCES users (id),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (release_id, key)
);
CREATE INDEX checklist_items_release_idx ON checklist_items (release_id, kind, position);

CREATE TABLE known_issues (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id    BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    key           TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
    severity      TEXT NOT NULL CHECK (severity IN ('p1', 'p2', 'p3')),
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    resolved_at   TIMESTAMPTZ,
    accepted_by   BIGINT REFERENCES users (id),
    accepted_at   TIMESTAMPTZ,
    accept_reason TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (release_id, key)
);

CREATE TABLE sign_offs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id   BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('product_owner', 'release_captain')),
    signer_id    BIGINT NOT NULL REFERENCES users (id),
    decision     TEXT NOT NULL CHECK (decision IN ('go', 'no_go')),
    comment      TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    signed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- One sign-off per role: two simultaneous ones store exactly one.
    UNIQUE (release_id, role)
);

CREATE TABLE deployments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id       BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    environment      TEXT NOT NULL,
    artifact_version TEXT NOT NULL,
    commit_sha       TEXT NOT NULL,
    ci_run_url       TEXT,
    reported_by      BIGINT REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX deployments_release_idx ON deployments (release_id, created_at);

CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor_id   BIGINT REFERENCES users (id),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    release_id BIGINT REFERENCES releases (id),
    old_value  JSONB,
    new_value  JSONB,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_release_idx ON audit_log (release_id, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
