DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
DROP TABLE deployments;
DROP TABLE sign_offs;
DROP TABLE known_issues;
DROP TABLE checklist_items;
DROP TABLE releases;
DROP TABLE checklist_template_items;
