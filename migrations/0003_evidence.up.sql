-- Evidence: files that prove a checklist item, the staging gate, a release or its
-- post-release documentation. The bytes live in the configured object store under a key
-- the server generated; this table holds what is known about them. Evidence is never
-- deleted: retracting hides it from what it proved and keeps it for the audit trail.
CREATE TABLE evidence (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    release_id     BIGINT NOT NULL REFERENCES releases (id),
    attached_to    TEXT NOT NULL
                   CHECK (attached_to IN ('release', 'item', 'staging_gate', 'post_release')),
    item_key       TEXT,
    storage_key    TEXT NOT NULL UNIQUE,
    filename       TEXT NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    original_name  TEXT NOT NULL,
    size           BIGINT NOT NULL CHECK (size >= 0),
    content_type   TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('image', 'log', 'file')),
    claimed_type   TEXT,
    sha256         TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by    BIGINT REFERENCES users (id),
    uploaded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    retracted_at   TIMESTAMPTZ,
    retracted_by   BIGINT REFERENCES users (id),
    retract_reason TEXT,
    CHECK ((attached_to = 'item') = (item_key IS NOT NULL)),
    CHECK ((retracted_at IS NULL) = (retract_reason IS NULL)),
    FOREIGN KEY (release_id, item_key) REFERENCES checklist_items (release_id, key)
);
CREATE INDEX evidence_release_idx ON evidence (release_id, uploaded_at, id);

CREATE FUNCTION evidence_is_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence is never deleted; retract it instead';
END;
$$;
CREATE TRIGGER evidence_never_deleted
    BEFORE DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_is_kept();
CREATE TRIGGER evidence_no_truncate
    BEFORE TRUNCATE ON evidence
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_is_kept();
