//! `GET /api/v1/openapi.json`: the REST API described for the pipelines that call it.

use axum::Json;
use serde_json::{json, Value};

fn op(summary: &str, ok: &str) -> Value {
    json!({
        "summary": summary,
        "responses": {
            ok: { "description": "success" },
            "401": { "$ref": "#/components/responses/Error" },
            "403": { "$ref": "#/components/responses/Error" },
            "422": { "$ref": "#/components/responses/Error" }
        }
    })
}

pub async fn document() -> Json<Value> {
    let release_fields = json!({
        "id": { "type": "integer" }, "title": { "type": "string" }, "version": { "type": "string" },
        "artifact_version": { "type": ["string", "null"] }, "commit_sha": { "type": ["string", "null"] },
        "environment": { "type": "string" }, "staging_environment": { "type": "string" },
        "window_start": { "type": "string", "format": "date-time" },
        "window_end": { "type": "string", "format": "date-time" },
        "strategy": { "enum": ["blue_green", "canary"] },
        "canary_stages": { "type": "array", "items": { "type": "integer" } },
        "canary_hold_minutes": { "type": "integer" },
        "phase": { "enum": ["draft", "staging_gate", "go_no_go", "go_live", "done", "no_go", "rolled_back"] },
        "release_captain": { "type": ["string", "null"], "format": "email" },
        "product_owner": { "type": ["string", "null"], "format": "email" },
        "links": { "type": "object" },
        "last_backup_at": { "type": ["string", "null"], "format": "date-time" },
        "last_restore_test_at": { "type": ["string", "null"], "format": "date-time" },
        "on_call": { "type": ["string", "null"] },
        "required_env_vars": { "type": "array", "items": { "type": "string" } },
        "revision": { "type": "integer", "description": "send it back with PATCH; a stale one gets 409" }
    });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "Shipgate API", "version": "1" },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": "string" } },
                    "required": ["code", "message"] } } },
                "Release": { "type": "object", "properties": release_fields },
                "Gate": { "type": "object", "properties": {
                    "passed": { "type": "boolean" }, "blockers": { "type": "array", "items": { "type": "object" } } } },
                "ArchivePage": { "type": "object", "properties": {
                    "entries": { "type": "array", "items": { "type": "object", "properties": {
                        "release_id": { "type": "integer" }, "outcome": { "enum": ["done", "no_go", "rolled_back"] },
                        "title": { "type": "string" }, "version": { "type": "string" },
                        "commit_sha": { "type": ["string", "null"] }, "environment": { "type": "string" },
                        "window_start": { "type": "string", "format": "date-time" },
                        "ended_at": { "type": "string", "format": "date-time" },
                        "people": { "type": "array", "items": { "type": "string", "format": "email" } } } } },
                    "total": { "type": "integer", "description": "matches, counted up to 10000" },
                    "total_capped": { "type": "boolean", "description": "true: more than 10000 match" },
                    "page": { "type": "integer" }, "per_page": { "type": "integer" } } },
                "MonthMetrics": { "type": "object", "properties": {
                    "month": { "type": "string", "description": "YYYY-MM, Europe/Berlin" },
                    "releases": { "type": "integer" }, "done": { "type": "integer" },
                    "no_go": { "type": "integer" }, "rolled_back": { "type": "integer" },
                    "no_go_rate_pct": { "type": ["number", "null"] },
                    "rollback_rate_pct": { "type": ["number", "null"], "description": "rolled_back / (done + rolled_back): the change failure rate" },
                    "median_lead_time_hours": { "type": ["number", "null"], "description": "staging gate started → done" },
                    "median_time_to_restore_minutes": { "type": ["number", "null"] } } }
            },
            "responses": { "Error": { "description": "error",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } }
        },
        "paths": {
            "/me": { "get": op("The caller", "200") },
            "/session": { "post": op("Sign in (browser session)", "200"), "delete": op("Sign out", "204") },
            "/releases": {
                "get": op("Current releases (?all=true for ended ones too)", "200"),
                "post": op("Create a release: title, version, environment, window_start, window_end required", "201")
            },
            "/releases/{id}": { "get": op("One release", "200"), "patch": op("Edit a release (send revision)", "200") },
            "/releases/{id}/phase": { "post": op("Request a phase change {to, revision?}; 409 lists blockers", "200") },
            "/releases/{id}/checklist": { "get": op("Checklist items", "200") },
            "/releases/{id}/checklist/{item}": { "patch": op("Change an item {state?, note?, reason?, link?, revision?}", "200") },
            "/releases/{id}/known-issues": { "get": op("Known issues", "200"), "post": op("Add {key, severity, title}", "201") },
            "/releases/{id}/known-issues/{issue}/resolve": { "post": op("Mark resolved", "200") },
            "/releases/{id}/known-issues/{issue}/accept": { "post": op("Accept explicitly {reason}", "200") },
            "/releases/{id}/gates/staging": { "get": op("Staging gate: 200 passed, 409 with blockers", "200") },
            "/releases/{id}/gates/go-live": { "get": op("Go-live gate: 200 passed, 409 with blockers", "200") },
            "/releases/{id}/sign-offs": { "get": op("Go/No-Go sign-offs with stale marks", "200"),
                "post": op("Sign {role, decision, comment?}; browser session only", "201") },
            "/releases/{id}/deployments": { "post": op("Report a deployment {environment, artifact_version, commit_sha, ci_run_url?}", "201") },
            "/releases/{id}/env-check": { "post": op("Report required variables by name {present, empty}; 409 if any missing or empty", "200") },
            "/releases/{id}/audit": { "get": op("The release's audit trail", "200") },
            "/releases/{id}/evidence": {
                "get": op("Evidence attached to the release, retracted pieces included", "200"),
                "post": op("Attach files: multipart/form-data (fields item?, section?, then file parts) or a raw body with ?filename=&item=&section=; 201 {id, sha256, size, content_type, filename} (a list for several files); 413 over the limit", "201")
            },
            "/releases/{id}/evidence/{evidence}": { "get": op("Download (Range supported)", "200") },
            "/releases/{id}/evidence/{evidence}/thumbnail": { "get": op("A 320 px PNG of an image", "200") },
            "/releases/{id}/evidence/{evidence}/retract": { "post": op("Retract {reason}: hidden from its item, kept for the record", "200") },
            "/evidence/{evidence}": { "get": op("Download (Range supported)", "200") },
            "/templates": { "get": op("Checklist templates", "200"),
                "post": op("Add an item {kind, text_de, text_en, section_de?, section_en?, evidence_required?} (admin)", "201") },
            "/templates/{id}": { "patch": op("Reorder {move_by: -1|1} or mark {evidence_required} (admin)", "204"),
                "delete": op("Remove an item (admin)", "204") },
            "/users": { "get": op("Accounts (admin)", "200"), "post": op("Add an account (admin)", "201") },
            "/users/{id}": { "patch": op("Change roles or disable (admin)", "200") },
            "/tokens": { "get": op("Your API tokens", "200"), "post": op("Issue a token (browser session)", "201") },
            "/tokens/{id}": { "delete": op("Revoke a token", "204") },
            "/archive": { "get": op("Ended releases, newest first, 25 a page: ?q= (words, each a prefix, over title, version, artifact, commit, notes, known issues), outcome= (done|no_go|rolled_back), environment=, from=, to= (YYYY-MM-DD in Europe/Berlin, both inclusive), person= (email), page=; an ArchivePage", "200") },
            "/metrics/delivery": { "get": op("Release metrics for the last ?months= (1-36, default 12) Europe/Berlin months: {months: [MonthMetrics]}", "200") }
        }
    });
    // Added one by one: a single `json!` this large hits the macro recursion limit.
    for (path, item) in go_live_paths() {
        doc["paths"][path] = item;
    }
    doc["components"]["schemas"]["AuditPage"] = audit_page_schema();
    doc["paths"]["/audit"] = json!({ "get": op("The whole audit trail, newest first (admin): ?actor= (user id, or the actor as the rows name it: an email, `cli`), action= (exact, or a family ending in `.` or `*`, e.g. user.), since=, until= (RFC 3339, both inclusive), limit= (1-500, default 50; more is 422), before= (the next_before of the previous page); an AuditPage", "200") });
    Json(doc)
}

fn audit_page_schema() -> Value {
    json!({ "type": "object", "properties": {
        "entries": { "type": "array", "items": { "type": "object", "properties": {
            "id": { "type": "integer" }, "at": { "type": "string", "format": "date-time" },
            "actor": { "type": "string" }, "actor_id": { "type": ["integer", "null"] },
            "action": { "type": "string", "description": "e.g. release.create, user.create, user.roles, user.disable, user.enable, user.password, user.register, token.issue, token.revoke" },
            "release_id": { "type": ["integer", "null"] },
            "old": { "type": ["object", "null"] }, "new": { "type": ["object", "null"] },
            "hash": { "type": "string", "description": "the row's place in the hash chain" } } } },
        "next_before": { "type": ["integer", "null"], "description": "pass as before= for the next, older page; null on the last page" } } })
}

fn go_live_paths() -> Vec<(&'static str, Value)> {
    vec![
        (
            "/releases/{id}/go-live",
            json!({ "get": op("The go-live: plan, recorded steps, what blocks the next step, the hold, the target's probe health, freeze windows", "200") }),
        ),
        (
            "/releases/{id}/go-live/start",
            json!({ "post": op("Start the go-live {override_reason?}: inside the window, or outside it by the release captain with a reason; never during a freeze. 409 lists blockers", "200") }),
        ),
        (
            "/releases/{id}/go-live/steps",
            json!({ "post": op("Record the next step {step: pre_checks|deploy_green|smoke_tests|switch_traffic|canary_stage|mark_green_prod, stage_pct?, note?}; 409 lists blockers (order, hold, target health)", "200") }),
        ),
        (
            "/releases/{id}/go-live/complete",
            json!({ "post": op("Complete the go-live once every step and the post-release documentation are done: phase done", "200") }),
        ),
        (
            "/releases/{id}/rollback",
            json!({ "post": op("Roll back {reason, status_page_updated?, team_alerted?} (release captain or product owner, while going live): webhooks told, phase rolled_back", "200") }),
        ),
        (
            "/releases/{id}/dossier",
            json!({ "get": op("The sealed dossier of an ended release: {dossier, format, sha256} as canonical JSON, or ?format=md&lang=de|en; 409 before the release ends", "200") }),
        ),
        (
            "/freezes",
            json!({ "get": op("Freeze windows, current and coming", "200"), "post": op("Add a freeze {environment, starts_at, ends_at, reason} (admin)", "201") }),
        ),
        (
            "/freezes/{id}",
            json!({ "delete": op("Remove a freeze (admin)", "204") }),
        ),
    ]
}
