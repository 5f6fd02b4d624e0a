//! The top of the release page: title, plan and people (long values wrap), the next phase
//! change, and for who steers the release the form to edit it.

use super::Actions;
use crate::domain::release::{Phase, Strategy};
use crate::domain::release_model::Release;
use crate::domain::time::{berlin_display, berlin_input_value};
use crate::i18n::Label;
use crate::ui::use_lang;
use leptos::prelude::*;

/// Title, plan and people, the next phase change and (for who steers) the edit form.
#[component]
pub(super) fn ReleaseHead(
    r: Release,
    go_live_started: bool,
    sign_off_stale: bool,
    staging_passed: bool,
    can_steer: bool,
    acts: Actions,
) -> impl IntoView {
    let lang = use_lang();
    let id = r.id;
    let dossier = r.phase.is_final().then(|| {
        view! {
            <p><a class="button" href=format!("/releases/{id}/dossier") data-testid="dossier-link">
                {lang.pick("Release dossier (sealed)", "Release-Dossier (versiegelt)")}
            </a></p>
        }
    });
    let next =
        crate::domain::release::next_requested_phase(r.phase, go_live_started, sign_off_stale);
    let step = next.filter(|_| can_steer).map(|to| {
        let (label, blocked) = match r.phase {
            Phase::Draft => (
                lang.pick("Start staging gate", "Staging-Gate starten"),
                false,
            ),
            Phase::StagingGate => (
                lang.pick("Move to Go/No-Go", "Zum Go/No-Go"),
                !staging_passed,
            ),
            _ => (
                lang.pick(
                    "Back to Go/No-Go to sign again",
                    "Zurück zum Go/No-Go, neu freigeben",
                ),
                false,
            ),
        };
        view! {
            <ActionForm action=acts.phase attr:class="inline">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="to" value=to.as_str()/>
                <button type="submit" class="primary" disabled=blocked>{label}</button>
            </ActionForm>
        }
    });
    let strategy = match r.strategy {
        Strategy::Canary => format!(
            "{} {} · {} {} min",
            r.strategy.label(lang),
            r.canary_stages
                .iter()
                .map(|s| format!("{s} %"))
                .collect::<Vec<_>>()
                .join(" → "),
            lang.pick("hold", "Haltezeit"),
            r.canary_hold_minutes
        ),
        Strategy::BlueGreen => r.strategy.label(lang).into_owned(),
    };
    let person = |who: Option<String>| {
        let shown = who.clone().unwrap_or_else(|| "–".into());
        view! { <dd class="long" title=who.unwrap_or_default()>{shown}</dd> }
    };
    // Editing is steering: the release's own captain or an admin (the server asks the same).
    let can_plan = !r.phase.is_final() && can_steer;
    view! {
        <section class="card release-head">
            <h1 class="long">{r.title.clone()}" "<small class="muted">{r.version.clone()}</small></h1>
            <dl class="facts release-facts">
                <dt>{lang.pick("Target environment", "Zielumgebung")}</dt>
                <dd class="long">{r.environment.clone()}</dd>
                <dt>{lang.pick("Staging environment", "Staging-Umgebung")}</dt>
                <dd class="long">{r.staging_environment.clone()}</dd>
                <dt>{lang.pick("Go-live window", "Go-Live-Fenster")}</dt>
                <dd>{berlin_display(&r.window_start)}" – "{berlin_display(&r.window_end)}</dd>
                <dt>{lang.pick("Strategy", "Strategie")}</dt>
                <dd>{strategy}</dd>
                <dt>{lang.pick("Release captain", "Release Captain")}</dt>
                {person(r.release_captain.clone())}
                <dt>{lang.pick("Product owner", "Product Owner")}</dt>
                {person(r.product_owner.clone())}
                {r.artifact_version.clone().map(|a| view! {
                    <dt>{lang.pick("Artifact", "Artefakt")}</dt>
                    <dd class="long" title=a.clone()>{a.clone()}</dd>
                })}
                {r.commit_sha.clone().map(|c| view! {
                    <dt>{lang.pick("Commit", "Commit")}</dt>
                    <dd><code class="long" title=c.clone()>{c.clone()}</code></dd>
                })}
            </dl>
            {dossier}
            {step}
            {can_plan.then(|| view! { <EditRelease r=r.clone() acts/> })}
        </section>
    }
}

#[component]
fn EditRelease(r: Release, acts: Actions) -> impl IntoView {
    let lang = use_lang();
    let canary = r.strategy == Strategy::Canary;
    view! {
        <details>
            <summary>{lang.pick("Edit release", "Release bearbeiten")}</summary>
            <ActionForm action=acts.edit attr:class="stack" attr:id="edit-release">
                <input type="hidden" name="release_id" value=r.id/>
                <input type="hidden" name="revision" value=r.revision/>
                <label>{lang.pick("Title", "Titel")}<input type="text" name="title" value=r.title.clone() required/></label>
                <label>{lang.pick("Version", "Version")}<input type="text" name="version" value=r.version.clone() required/></label>
                <label>{lang.pick("Target environment", "Zielumgebung")}<input type="text" name="environment" value=r.environment.clone() required/></label>
                <label>{lang.pick("Staging environment", "Staging-Umgebung")}<input type="text" name="staging_environment" value=r.staging_environment.clone() required/></label>
                <label>{lang.pick("Window start (Europe/Berlin)", "Fensterbeginn (Europe/Berlin)")}<input type="datetime-local" name="window_start" value=berlin_input_value(&r.window_start) required/></label>
                <label>{lang.pick("Window end (Europe/Berlin)", "Fensterende (Europe/Berlin)")}<input type="datetime-local" name="window_end" value=berlin_input_value(&r.window_end) required/></label>
                <label>{lang.pick("Strategy", "Strategie")}
                    <select name="strategy">
                        <option value="blue_green" selected=!canary>"Blue/Green"</option>
                        <option value="canary" selected=canary>"Canary 10 % → 50 % → 100 %"</option>
                    </select>
                </label>
                <label>{lang.pick("Release captain (email)", "Release Captain (E-Mail)")}<input type="email" name="release_captain" value=r.release_captain.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Product owner (email)", "Product Owner (E-Mail)")}<input type="email" name="product_owner" value=r.product_owner.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Artifact version", "Artefakt-Version")}<input type="text" name="artifact_version" value=r.artifact_version.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Commit SHA", "Commit-SHA")}<input type="text" name="commit_sha" value=r.commit_sha.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Changelog link", "Changelog-Link")}<input type="url" name="changelog" value=r.links.changelog.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Rollback plan link", "Link zum Rollback-Plan")}<input type="url" name="rollback_plan" value=r.links.rollback_plan.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Backup-restore link", "Link zum Backup-Restore")}<input type="url" name="backup_restore" value=r.links.backup_restore.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Stability hold (minutes)", "Stabilitätsphase (Minuten)")}<input type="number" min="0" max="1440" name="canary_hold_minutes" value=r.canary_hold_minutes/></label>
                <button type="submit">{lang.pick("Save release", "Release speichern")}</button>
            </ActionForm>
        </details>
    }
}
