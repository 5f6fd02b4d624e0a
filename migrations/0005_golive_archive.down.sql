DROP TABLE archive_entries;
DROP TABLE dossiers;
DROP TABLE go_live_steps;
DROP FUNCTION record_is_immutable();
DROP TABLE freeze_windows;
DELETE FROM checklist_items WHERE kind = 'post_release';
DELETE FROM checklist_template_items WHERE kind = 'post_release';
ALTER TABLE checklist_items DROP CONSTRAINT checklist_items_kind_check,
    ADD CONSTRAINT checklist_items_kind_check
        CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live'));
ALTER TABLE checklist_template_items DROP CONSTRAINT checklist_template_items_kind_check,
    ADD CONSTRAINT checklist_template_items_kind_check
        CHECK (kind IN ('release_checklist', 'staging_gate', 'go_live'));
