DROP TABLE archive_entries;
DROP TABLE dossiers;
DROP TABLE go_live_steps;
DROP FUNCTION record_is_immutable();
DROP TABLE freeze_windows;
-- Evidence is never deleted, so documentation that has proof attached cannot be reverted.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM evidence e JOIN checklist_items c
               ON c.release_id = e.release_id AND c.key = e.item_key
               WHERE c.kind = 'post_release') THEN
        RAISE EXCEPTION 'post-release documentation has evidence attached; this migration cannot be reverted';
    END IF;
END;
$$;
DELETE FROM checklist_items WHERE kind = 'post_release';
DELETE FROM checklist_template_items WHERE kind = 'post_release';
ALTER TABLE checklist_items DROP CONSTRAINT checklist_items_kind_check,
    ADD CONSTRAINT checklist_items_kind_check
        CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live'));
ALTER TABLE checklist_template_items DROP CONSTRAINT checklist_template_items_kind_check,
    ADD CONSTRAINT checklist_template_items_kind_check
        CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live'));
