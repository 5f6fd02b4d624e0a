//! `/releases/{id}/sign`: the Go/No-Go sign-off, made for a phone. It shows only what is
//! being signed (release, window, the staging gate's result, accepted known issues, the
//! preconditions, the evidence and the hash all that comes to), both sign-offs, and for the
//! reader's own signer role(s) the two big buttons. The sign form, the sign-off rows and
//! the preconditions are shared with the release page's Go/No-Go card.

use super::{use_lang, use_user};
use crate::domain::account::UserInfo;
use crate::domain::release::content::is_signed_evidence;
use crate::domain::release::{Blocker, Phase, SignerRole};
use crate::domain::release_model::{Release, ReleaseDetails, SignOffView};
use crate::domain::time::berlin_display;
use crate::i18n::Label;
use crate::server_fns::releases::load_release_details;
use crate::server_fns::signoffs::Sign;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// How many hex digits of the content hash a person compares.
const HASH_SHORT: usize = 12;

/// The signer roles `me` still has to sign on this release (`Release::roles_left_to_sign`).
pub(super) fn roles_to_sign(p: &ReleaseDetails, me: Option<&UserInfo>) -> Vec<SignerRole> {
    me.map(|u| p.release.roles_left_to_sign(&p.sign_offs, u))
        .unwrap_or_default()
}

/// One Go/No-Go sign-off: a comment (the server requires one for No-Go) and two big
/// buttons. A plain form; the button pressed sends its decision.
#[component]
pub(super) fn SignForm(
    release_id: i64,
    role: SignerRole,
    action: ServerAction<Sign>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <ActionForm action=action attr:class="stack sign-form">
            <input type="hidden" name="release_id" value=release_id/>
            <input type="hidden" name="role" value=role.as_str()/>
            <p class="sign-as">{lang.pick("You sign as ", "Sie entscheiden als ")}<strong>{role.label(lang)}</strong></p>
            <label>{lang.pick("Comment (required for No-Go)", "Kommentar (Pflicht bei No-Go)")}
                <textarea name="comment" rows="2"></textarea>
            </label>
            <div class="sign-buttons">
                <button type="submit" name="decision" value="go" class="primary big" data-testid="sign-go">
                    {lang.pick("Sign GO", "GO freigeben")}
                </button>
                <button type="submit" name="decision" value="no_go" class="danger big" data-testid="sign-no-go">
                    {lang.pick("Sign NO-GO", "NO-GO erklären")}
                </button>
            </div>
        </ActionForm>
    }
}

/// Both signer roles: who is assigned, and their sign-off (decision, signer, when, comment)
/// with its stale mark.
#[component]
pub(super) fn SignOffRows(release: Release, sign_offs: Vec<SignOffView>) -> impl IntoView {
    let lang = use_lang();
    let rows = SignerRole::ALL
        .into_iter()
        .map(|role| {
            let assigned = match role {
                SignerRole::ProductOwner => release.product_owner.clone(),
                SignerRole::ReleaseCaptain => release.release_captain.clone(),
            };
            let state = match sign_offs.iter().find(|s| s.role == role).cloned() {
                None => view! {
                    <span class="badge">{lang.pick("not signed", "nicht freigegeben")}</span>
                }
                .into_any(),
                Some(s) => view! {
                    <span class=if s.stale { "badge warn long" } else { "badge ok long" } title=s.signer.clone()>
                        {s.decision.label(lang)}" · "{s.signer.clone()}
                    </span>
                    {s.stale.then(|| view! {
                        <span class="badge warn" data-testid="stale">{lang.pick("stale: sign again", "veraltet: erneut freigeben")}</span>
                    })}
                    <div class="muted signed-at">{berlin_display(&s.signed_at)}</div>
                    {(!s.comment.trim().is_empty()).then(|| view! { <div class="signer-comment long">{s.comment.clone()}</div> })}
                }
                .into_any(),
            };
            view! {
                <li data-role=role.as_str()>
                    <strong>{role.label(lang)}</strong>
                    <span class="muted long assigned" title=assigned.clone().unwrap_or_default()>
                        {assigned.clone().unwrap_or_else(|| lang.pick("nobody assigned", "niemand zugeordnet").to_string())}
                    </span>
                    {state}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="signers">{rows}</ul> }
}

/// The Go/No-Go preconditions as they stand, for every reader (the product owner signs on
/// them); `blockers` (the go-live gate's) mark what does not hold.
#[component]
pub(super) fn PreconditionFacts(release: Release, blockers: Vec<Blocker>) -> impl IntoView {
    let lang = use_lang();
    let flag = |b: Blocker, en: &'static str, de: &'static str| {
        blockers
            .contains(&b)
            .then(|| view! { " " <span class="badge warn">{lang.pick(en, de)}</span> })
    };
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| berlin_display(&t)).unwrap_or_else(|| "–".into())
    };
    let on_call = release.on_call.clone().filter(|s| !s.trim().is_empty());
    let down = release
        .links
        .down_migration
        .clone()
        .filter(|s| !s.trim().is_empty());
    view! {
        <dl class="facts preconditions" data-testid="preconditions">
            <dt>{lang.pick("Last backup", "Letztes Backup")}</dt>
            <dd>{when(release.last_backup_at)}{flag(Blocker::BackupTooOld, "older than 24 h", "älter als 24 h")}</dd>
            <dt>{lang.pick("Last restore test", "Letzter Restore-Test")}</dt>
            <dd>{when(release.last_restore_test_at)}{flag(Blocker::RestoreTestTooOld, "older than 30 days", "älter als 30 Tage")}</dd>
            <dt>{lang.pick("On-call", "On-Call")}</dt>
            <dd class="long">{on_call.unwrap_or_else(|| "–".into())}{flag(Blocker::OnCallMissing, "missing", "fehlt")}</dd>
            <dt>{lang.pick("Down-migration", "Down-Migration")}</dt>
            <dd class="long">
                {match down {
                    Some(url) => view! { <a href=url.clone() title=url.clone() rel="noopener noreferrer" target="_blank">{url.clone()}</a> }.into_any(),
                    None => view! { "–" }.into_any(),
                }}
                {flag(Blocker::DownMigrationMissing, "missing", "fehlt")}
            </dd>
        </dl>
    }
}

#[component]
pub fn SignPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    // A refusal of a form posted without JavaScript comes back in the URL and lands here.
    let sign = ServerAction::<Sign>::new();
    let page = Resource::new(id, load_release_details);
    let failure = move || {
        sign.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    view! {
        <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <section class="card"><p class="alert error">{e.text(lang)}</p></section> }.into_any(),
                    Ok(p) => view! { {failure} <SignView p sign/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignView(p: ReleaseDetails, sign: ServerAction<Sign>) -> impl IntoView {
    let lang = use_lang();
    let me = use_user();
    let r = p.release.clone();
    let id = r.id;
    let to_sign = roles_to_sign(&p, me.as_ref());
    let signs_here = me
        .as_ref()
        .is_some_and(|u| SignerRole::ALL.into_iter().any(|role| r.signs_for(u, role)));
    let accepted: Vec<_> = p
        .known_issues
        .iter()
        .filter(|k| k.accepted_by.is_some())
        .cloned()
        .collect();
    let accepted = if accepted.is_empty() {
        view! { <span class="muted">{lang.pick("none", "keine")}</span> }.into_any()
    } else {
        view! {
            <ul class="accepted-issues">
                {accepted.into_iter().map(|k| view! {
                    <li class="long">
                        <strong>{k.severity.label(lang)}</strong>" "{k.key.clone()}" · "{k.title.clone()}
                        <div class="muted">
                            {lang.pick("accepted by ", "akzeptiert von ")}{k.accepted_by.clone().unwrap_or_default()}
                            ": "{k.accept_reason.clone().unwrap_or_default()}
                        </div>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let files = p
        .evidence
        .iter()
        .filter(|e| is_signed_evidence(e, &p.checklist))
        .count();
    let links: usize = p
        .checklist
        .iter()
        .filter(|i| i.kind != crate::domain::templates::ChecklistKind::PostRelease)
        .map(|i| i.links.len())
        .sum();
    let short_hash: String = p.content_hash.chars().take(HASH_SHORT).collect();
    let (gate_class, gate_text) = if p.staging.passed {
        ("badge ok", lang.pick("passed", "bestanden"))
    } else {
        ("badge warn", lang.pick("blocked", "blockiert"))
    };
    let forms = if to_sign.is_empty() {
        let why = if r.phase != Phase::GoNoGo {
            format!(
                "{} {}.",
                lang.pick(
                    "Signing is open in the Go/No-Go phase; this release is in phase",
                    "Freigeben ist in der Phase Go/No-Go möglich; dieses Release ist in Phase"
                ),
                r.phase.label(lang)
            )
        } else if signs_here {
            lang.pick(
                "Your sign-off covers what is there now.",
                "Ihre Freigabe deckt den aktuellen Stand ab.",
            )
            .to_string()
        } else {
            lang.pick(
                "Only the product owner and the release captain assigned to this release sign it.",
                "Nur der diesem Release zugeordnete Product Owner und Release Captain geben es frei.",
            )
            .to_string()
        };
        view! { <p class="muted" data-testid="sign-closed">{why}</p> }.into_any()
    } else {
        to_sign
            .into_iter()
            .map(|role| view! { <SignForm release_id=id role action=sign/> })
            .collect_view()
            .into_any()
    };
    view! {
        <Title text=format!("{} {} · Go/No-Go", r.title, r.version)/>
        <section class="card sign-page gonogo" data-testid="sign-page">
            <p class="back"><a href=format!("/releases/{id}")>{lang.pick("← Back to the release", "← Zurück zum Release")}</a></p>
            <h1 class="long">{r.title.clone()}" "<small class="muted">{r.version.clone()}</small></h1>
            <p>
                <span class=format!("phase phase-{}", r.phase.as_str()) data-testid="phase">{r.phase.label(lang)}</span>
                " "<span class="muted">{lang.pick("Go/No-Go decision (T-1h)", "Go/No-Go-Entscheid (T-1h)")}</span>
            </p>
            <dl class="facts sign-facts">
                <dt>{lang.pick("Go-live window", "Go-Live-Fenster")}</dt>
                <dd>{berlin_display(&r.window_start)}" – "{berlin_display(&r.window_end)}</dd>
                <dt>{lang.pick("Target environment", "Zielumgebung")}</dt>
                <dd class="long">{r.environment.clone()}</dd>
                {r.commit_sha.clone().map(|c| view! {
                    <dt>{lang.pick("Commit", "Commit")}</dt>
                    <dd><code class="long" title=c.clone()>{c.clone()}</code></dd>
                })}
                <dt>{lang.pick("Staging gate (T-12h)", "Staging-Gate (T-12h)")}</dt>
                <dd><span class=gate_class data-testid="staging-result">{gate_text}</span></dd>
                <dt>{lang.pick("Known issues accepted", "Akzeptierte bekannte Probleme")}</dt>
                <dd>{accepted}</dd>
                <dt>{lang.pick("Evidence", "Nachweise")}</dt>
                <dd data-testid="evidence-count">
                    {files}" "{lang.pick("files", "Dateien")}" · "{links}" "{lang.pick("links", "Links")}
                </dd>
                <dt>{lang.pick("Content hash", "Inhalts-Hash")}</dt>
                <dd><code data-testid="content-hash" title=p.content_hash.clone()>{short_hash}</code></dd>
            </dl>
            <h2>{lang.pick("Preconditions", "Voraussetzungen")}</h2>
            <PreconditionFacts release=r.clone() blockers=p.go_live.blockers.clone()/>
            <h2>{lang.pick("Sign-offs", "Freigaben")}</h2>
            <SignOffRows release=r.clone() sign_offs=p.sign_offs.clone()/>
            {forms}
        </section>
    }
}
