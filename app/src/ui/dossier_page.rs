//! `/releases/:id/dossier`: the sealed dossier as a printable page, in the procedure's
//! structure, with its seal and the JSON and Markdown exports.

use super::use_lang;
use crate::domain::dossier::{DossierItem, SealedDossier};
use crate::domain::evidence::Evidence;
use crate::domain::golive::{step_label_key, PlannedStep};
use crate::domain::time::berlin_display;
use crate::i18n::{environment_role_label, plan_label, signer_title, Label};
use crate::server_fns::dossier::load_dossier;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
fn Items(items: Vec<DossierItem>, evidence: Vec<Evidence>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <table class="list dossier-items">
            <thead><tr>
                <th>{lang.pick("Item", "Punkt")}</th>
                <th>{lang.pick("State", "Zustand")}</th>
                <th>{lang.pick("Who / when", "Wer / wann")}</th>
                <th>{lang.pick("Note, reason, links", "Notiz, Grund, Links")}</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|i| view! {
                    <tr data-key=i.key.clone() data-state=i.state.as_str()>
                        <td>{lang.pick(i.text_en.as_str(), i.text_de.as_str()).to_string()}</td>
                        <td><span class=format!("badge state-{}", i.state.as_str())>{i.state.label(lang)}</span></td>
                        <td>{i.updated_by.clone().unwrap_or_else(|| "–".into())}<br/><span class="muted">{berlin_display(&i.updated_at)}</span></td>
                        <td>{i.note.clone()}" "{i.reason.clone()}" "{i.links.join(" ")}
                            {evidence.iter().filter(|e| e.item_key.as_deref() == Some(i.key.as_str()) && !e.is_retracted()).map(|e| view! {
                                <div class="muted">{e.filename.clone()}" · sha256 "<code>{e.sha256.chars().take(12).collect::<String>()}"…"</code></div>
                            }).collect_view()}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn DossierPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let dossier = Resource::new(id, load_dossier);
    view! {
        <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match dossier.await {
                    Err(e) => view! { <section class="card"><p class="alert error" role="alert">{e.text(lang)}</p></section> }.into_any(),
                    Ok(s) => view! { <DossierView s/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DossierView(s: SealedDossier) -> impl IntoView {
    let lang = use_lang();
    let d = s.dossier.clone();
    let r = d.release.clone();
    let id = r.id;
    let code = lang.code();
    let signers = d.go_no_go.sign_offs.iter().map(|so| {
        let role = signer_title(so.role);
        let decision = so.decision.label(lang);
        view! {
            <li data-role=so.role.as_str()><strong>{role}</strong>": "{decision}" · "{so.signer.clone()}" · "{berlin_display(&so.signed_at)}
                {(!so.comment.is_empty()).then(|| view! { " — „"{so.comment.clone()}"“" })}
                {so.stale.then(|| view! { " " <span class="badge warn">{lang.pick("changed after signing", "nach der Freigabe geändert")}</span> })}
            </li>
        }
    }).collect_view();
    let pre = d.go_no_go.preconditions.clone();
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.as_ref().map(berlin_display).unwrap_or_else(|| "–".into())
    };
    let monitoring = d.go_no_go.monitoring.iter().map(|m| view! {
        <li>{m.environment.clone()}" ("{environment_role_label(&m.role, lang)}"): "
            {if m.registered {
                format!("{} {}, {} {}", m.open_alerts.len(), lang.pick("open alerts", "offene Alerts"), m.recent_results.len(), lang.pick("probe results", "Check-Ergebnisse"))
            } else {
                lang.pick("not probed", "nicht überwacht").to_string()
            }}
        </li>
    }).collect_view();
    let timeline = d.go_live.iter().map(|st| {
        let step = PlannedStep { kind: st.kind, stage_pct: st.stage_pct };
        view! {
            <li data-step=step_label_key(step)>{berlin_display(&st.at)}" · "<strong>{step.label(lang)}</strong>" · "{st.actor.clone()}
                {(!st.note.is_empty()).then(|| view! { " — "{st.note.clone()} })}
            </li>
        }
    }).collect_view();
    let rollback = d.rollback.clone().map(|rb| view! {
        <section class="card" data-testid="dossier-rollback">
            <h2>"Rollback"</h2>
            <p>{berlin_display(&rb.at)}" · "{rb.by.clone()}": "{rb.reason.clone()}</p>
            <ul>
                <li>{lang.pick("Status page updated", "Status-Page aktualisiert")}": "{if rb.status_page_updated { "✔" } else { "✘" }}</li>
                <li>{lang.pick("Team alerted", "Team alarmiert")}": "{if rb.team_alerted { "✔" } else { "✘" }}</li>
                <li>{lang.pick("Rollback plan", "Rollback-Plan")}": "{rb.rollback_plan.clone().unwrap_or_else(|| "–".into())}</li>
                <li>{lang.pick("Down-migration", "Down-Migration")}": "{rb.down_migration.clone().unwrap_or_else(|| "–".into())}</li>
            </ul>
        </section>
    });
    // Where each piece is attached: its item's text, else the section's name.
    let attached = |e: &Evidence| match e.item_key.as_deref() {
        Some(key) => d
            .item(key)
            .map(|i| {
                lang.pick(i.text_en.as_str(), i.text_de.as_str())
                    .to_string()
            })
            .unwrap_or_else(|| key.to_string()),
        None => e.attached_to.label(lang).into_owned(),
    };
    let evidence = d.evidence.iter().map(|e| view! {
        <tr data-evidence=e.id>
            <td>{e.filename.clone()}</td>
            <td>{attached(e)}</td>
            <td>{e.size}</td>
            <td><code>{e.sha256.clone()}</code></td>
            <td>{berlin_display(&e.uploaded_at)}{e.retract_reason.clone().map(|why| format!(" · {}: {why}", lang.pick("retracted", "zurückgezogen")))}</td>
        </tr>
    }).collect_view();
    view! {
        <Title text=format!("{} {} · {}", r.title, r.version, lang.pick("Dossier", "Dossier"))/>
        <section class="card dossier" data-testid="dossier">
            <div class="row-between">
                <h1>{r.title.clone()}" "<small class="muted">{r.version.clone()}</small></h1>
                <span class=format!("phase phase-{}", d.outcome.as_str()) data-testid="outcome">{d.outcome.label(lang)}</span>
            </div>
            <p class="no-print">
                <a href=format!("/releases/{id}")>{lang.pick("Back to the release", "Zurück zum Release")}</a>" · "
                <a href=format!("/api/v1/releases/{id}/dossier") data-testid="export-json" download="">{lang.pick("Download JSON", "JSON herunterladen")}</a>" · "
                <a href=format!("/api/v1/releases/{id}/dossier?format=md&lang={code}") data-testid="export-md" download="">{lang.pick("Download Markdown", "Markdown herunterladen")}</a>
            </p>
            <p class="muted">{lang.pick(
                "Sealed when the release ended; documentation filed later stays on the release page.",
                "Versiegelt, als das Release endete; später abgelegte Dokumentation steht auf der Release-Seite."
            )}</p>
            <dl class="facts">
                <dt>{lang.pick("Environment", "Umgebung")}</dt><dd>{r.environment.clone()}" (staging: "{r.staging_environment.clone()}")"</dd>
                <dt>{lang.pick("Artifact / commit", "Artefakt / Commit")}</dt><dd>{r.artifact_version.clone().unwrap_or_default()}" "{r.commit_sha.clone().unwrap_or_default()}</dd>
                <dt>{lang.pick("Go-live window", "Go-Live-Fenster")}</dt><dd>{berlin_display(&r.window_start)}" – "{berlin_display(&r.window_end)}</dd>
                <dt>{lang.pick("Strategy", "Strategie")}</dt><dd>{plan_label(r.strategy, &r.canary_stages, r.canary_hold_minutes, lang)}</dd>
                <dt>"Release Captain"</dt><dd>{r.release_captain.clone().unwrap_or_default()}</dd>
                <dt>"Product Owner"</dt><dd>{r.product_owner.clone().unwrap_or_default()}</dd>
                <dt>{lang.pick("Sealed", "Versiegelt")}</dt><dd>{berlin_display(&d.sealed_at)}</dd>
                <dt>"sha256"</dt><dd><code data-testid="seal">{s.sha256.clone()}</code></dd>
                <dt>{lang.pick("Audit chain head", "Audit-Kettenkopf")}</dt><dd><code>{d.audit_head.clone()}</code></dd>
            </dl>
        </section>
        <section class="card"><h2>{lang.pick("1. Release checklist", "1. Release-Checklist")}</h2><Items items=d.release_checklist.clone() evidence=d.evidence.clone()/></section>
        <section class="card" data-testid="dossier-staging">
            <h2>{lang.pick("Staging gate protocol (T-12h)", "Staging-Gate-Protokoll (T-12h)")}</h2>
            <Items items=d.staging_gate.items.clone() evidence=d.evidence.clone()/>
            <p>{lang.pick("Gate passed: ", "Gate bestanden: ")}{when(d.staging_gate.passed_at)}</p>
            <ul>{d.staging_gate.known_issues.iter().map(|k| view! {
                <li>{k.severity.label(lang)}" "{k.key.clone()}" · "{k.title.clone()}</li>
            }).collect_view()}</ul>
        </section>
        <section class="card" data-testid="dossier-go-no-go">
            <h2>{lang.pick("Go-live decision (T-1h)", "Go-Live-Entscheid (T-1h)")}</h2>
            <ul class="signers">{signers}</ul>
            <ul>
                <li>{lang.pick("Last backup", "Letztes Backup")}": "{when(pre.last_backup_at)}</li>
                <li>{lang.pick("Last restore test", "Letzter Restore-Test")}": "{when(pre.last_restore_test_at)}</li>
                <li>{lang.pick("Down-migration", "Down-Migration")}": "{pre.down_migration_url.clone().unwrap_or_else(|| "–".into())}</li>
                <li>"On-Call: "{pre.on_call.clone().unwrap_or_else(|| "–".into())}</li>
            </ul>
            <Items items=d.go_no_go.items.clone() evidence=d.evidence.clone()/>
            <h3>{lang.pick("Monitoring at decision time", "Monitoring zum Entscheidungszeitpunkt")}</h3>
            <ul>{monitoring}</ul>
        </section>
        <section class="card" data-testid="dossier-go-live">
            <h2>{lang.pick("Go-live", "Go-Live")}</h2>
            <ol class="timeline">{timeline}</ol>
        </section>
        {rollback}
        <section class="card"><h2>{lang.pick("Documentation", "Dokumentation")}</h2><Items items=d.post_release.clone() evidence=d.evidence.clone()/></section>
        <section class="card">
            <h2>{lang.pick("Evidence", "Nachweise")}</h2>
            <table class="list">
                <thead><tr><th>{lang.pick("File", "Datei")}</th><th>{lang.pick("For", "Für")}</th><th>"Bytes"</th><th>"sha256"</th><th>{lang.pick("Uploaded", "Hochgeladen")}</th></tr></thead>
                <tbody>{evidence}</tbody>
            </table>
        </section>
    }
}
