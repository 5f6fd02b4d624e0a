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
    Json(json!({
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
                    "passed": { "type": "boolean" }, "blockers": { "type": "array", "items": { "type": "object" } } } }
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
            "/tokens/{id}": { "delete": op("Revoke a token", "204") }
        }
    }))
}
