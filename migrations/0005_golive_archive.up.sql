-- Go-live and rollback recorded step by step, freeze windows, the post-release
-- documentation checklist, the sealed release dossier and the archive's search index.

-- A fourth checklist: the post-release documentation ("Dokumentation" of section 4).
ALTER TABLE checklist_template_items DROP CONSTRAINT checklist_template_items_kind_check,
    ADD CONSTRAINT checklist_template_items_kind_check
        CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live', 'post_release'));
ALTER TABLE checklist_items DROP CONSTRAINT checklist_items_kind_check,
    ADD CONSTRAINT checklist_items_kind_check
        CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live', 'post_release'));

-- Instances whose templates were seeded already get the shipped post-release items, and so
-- do their releases still in flight (an empty template table is seeded in full on first use).
INSERT INTO checklist_template_items
    (kind, position, key, section_de, section_en, text_de, text_en, evidence_required)
SELECT 'post_release', s.position, s.key, 'Dokumentation', 'Documentation', s.text_de, s.text_en, TRUE
FROM (VALUES
    (0, 'post_dashboards', 'Dashboard-Screenshots nach dem Release im Release-Ordner abgelegt.',
        'Dashboard screenshots after the release filed in the release folder.'),
    (1, 'post_alert_logs', 'Alert-Logs des Release-Zeitraums abgelegt.',
        'Alert logs of the release period filed.')
) AS s (position, key, text_de, text_en)
WHERE EXISTS (SELECT 1 FROM checklist_template_items)
ON CONFLICT (key) DO NOTHING;
INSERT INTO checklist_items
    (release_id, kind, position, key, section_de, section_en, text_de, text_en, evidence_required)
SELECT r.id, t.kind, t.position, t.key, t.section_de, t.section_en, t.text_de, t.text_en, t.evidence_required
FROM releases r CROSS JOIN checklist_template_items t
WHERE t.kind = 'post_release' AND r.phase NOT IN ('done', 'no_go', 'rolled_back')
ON CONFLICT (release_id, key) DO NOTHING;

-- Freeze windows: no go-live into the environment while one holds.
CREATE TABLE freeze_windows (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment TEXT NOT NULL CHECK (length(environment) BETWEEN 1 AND 100),
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    reason      TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by  BIGINT REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX freeze_windows_env_idx ON freeze_windows (lower(environment), ends_at);

-- The go-live as it happened: one row per recorded step, never changed.
CREATE TABLE go_live_steps (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    step       TEXT NOT NULL CHECK (step IN ('start', 'pre_checks', 'deploy_green', 'smoke_tests',
                   'switch_traffic', 'canary_stage', 'mark_green_prod', 'complete', 'rollback')),
    stage_pct  INTEGER CHECK (stage_pct BETWEEN 1 AND 100),
    note       TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    detail     JSONB NOT NULL DEFAULT '{}',
    actor_id   BIGINT REFERENCES users (id),
    actor      TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((step = 'canary_stage') = (stage_pct IS NOT NULL))
);
CREATE INDEX go_live_steps_release_idx ON go_live_steps (release_id, id);

-- The sealed dossier: the canonical JSON text exactly as hashed, written once when the
-- release ends.
CREATE TABLE dossiers (
    release_id BIGINT PRIMARY KEY REFERENCES releases (id),
    sealed_at  TIMESTAMPTZ NOT NULL,
    document   TEXT NOT NULL,
    sha256     TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    audit_head TEXT NOT NULL
);

CREATE FUNCTION record_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is written once: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER go_live_steps_immutable BEFORE UPDATE OR DELETE ON go_live_steps
    FOR EACH ROW EXECUTE FUNCTION record_is_immutable();
CREATE TRIGGER go_live_steps_no_truncate BEFORE TRUNCATE ON go_live_steps
    FOR EACH STATEMENT EXECUTE FUNCTION record_is_immutable();
CREATE TRIGGER dossiers_immutable BEFORE UPDATE OR DELETE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION record_is_immutable();
CREATE TRIGGER dossiers_no_truncate BEFORE TRUNCATE ON dossiers
    FOR EACH STATEMENT EXECUTE FUNCTION record_is_immutable();

-- The archive's search index: one row per ended release, written with its dossier.
CREATE TABLE archive_entries (
    release_id         BIGINT PRIMARY KEY REFERENCES releases (id),
    outcome            TEXT NOT NULL CHECK (outcome IN ('done', 'no_go', 'rolled_back')),
    title              TEXT NOT NULL,
    version            TEXT NOT NULL,
    commit_sha         TEXT,
    environment        TEXT NOT NULL,
    window_start       TIMESTAMPTZ NOT NULL,
    ended_at           TIMESTAMPTZ NOT NULL,
    -- Delivery metrics: staging gate started, traffic first switched, service restored.
    staging_started_at TIMESTAMPTZ,
    restore_seconds    DOUBLE PRECISION,
    people             TEXT[] NOT NULL DEFAULT '{}',
    search             TSVECTOR NOT NULL
);
CREATE INDEX archive_entries_ended_idx ON archive_entries (ended_at DESC, release_id DESC);
CREATE INDEX archive_entries_search_idx ON archive_entries USING GIN (search);
CREATE INDEX archive_entries_people_idx ON archive_entries USING GIN (people);
CREATE INDEX archive_entries_env_idx ON archive_entries (lower(environment), ended_at DESC);
CREATE INDEX archive_entries_outcome_idx ON archive_entries (outcome, ended_at DESC);
