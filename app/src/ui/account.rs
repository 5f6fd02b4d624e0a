//! The signed-in person's own account: password and personal API tokens.

use super::{use_lang, use_user};
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::domain::time::berlin_display;
use crate::i18n::Label;
use crate::server_fns::accounts::ChangePassword;
use crate::server_fns::tokens::{list_tokens, IssueToken, RevokeToken};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = use_lang();
    let user = use_user();
    let change = ServerAction::<ChangePassword>::new();
    let issue = ServerAction::<IssueToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (issue.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );

    let change_result = move || {
        change.value().get().map(|r| match r {
            Ok(()) => view! {
                <p class="alert ok" role="status">
                    {lang.pick(
                        "Password changed. Your other sessions have been signed out.",
                        "Passwort geändert. Ihre anderen Sitzungen wurden abgemeldet.",
                    )}
                </p>
            }
            .into_any(),
            Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
        })
    };
    let issued = move || {
        issue.value().get().map(|r| match r {
            Ok(t) => view! {
                <div class="alert ok" role="status">
                    <p>
                        {lang.pick(
                            "Copy the token now; it will not be shown again:",
                            "Token jetzt kopieren; es wird nicht noch einmal angezeigt:",
                        )}
                    </p>
                    <code class="secret" data-testid="new-token">{t.secret}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
        })
    };

    view! {
        <Title text=lang.pick("Account", "Konto")/>
        <section class="card">
            <h1>{lang.pick("Your account", "Ihr Konto")}</h1>
            {user.map(|u| {
                let roles = u.roles.iter().map(|r| r.label(lang)).collect::<Vec<_>>().join(", ");
                view! {
                    <dl class="facts">
                        <dt>{lang.pick("Email", "E-Mail")}</dt><dd>{u.email.clone()}</dd>
                        <dt>{lang.pick("Name", "Name")}</dt><dd>{u.name.clone()}</dd>
                        <dt>{lang.pick("Roles", "Rollen")}</dt><dd>{roles}</dd>
                    </dl>
                }
            })}
        </section>

        <section class="card">
            <h2>{lang.pick("Change password", "Passwort ändern")}</h2>
            {change_result}
            <ActionForm action=change attr:class="stack"
                attr:data-ok=lang.pick("Password changed. Your other sessions have been signed out.", "Passwort geändert. Ihre anderen Sitzungen wurden abgemeldet.")>
                <label>
                    {lang.pick("Current password", "Aktuelles Passwort")}
                    <input type="password" name="current_password" autocomplete="current-password" required/>
                </label>
                <label>
                    {lang.pick("New password (at least 8 characters)", "Neues Passwort (mindestens 8 Zeichen)")}
                    <input type="password" name="new_password" autocomplete="new-password" required
                        minlength=PASSWORD_MIN_CHARS maxlength=PASSWORD_MAX_CHARS/>
                </label>
                <label>
                    {lang.pick("Repeat the new password", "Neues Passwort wiederholen")}
                    <input type="password" name="confirm_password" autocomplete="new-password" required
                        minlength=PASSWORD_MIN_CHARS maxlength=PASSWORD_MAX_CHARS/>
                </label>
                <button type="submit" class="primary">{lang.pick("Change password", "Passwort ändern")}</button>
            </ActionForm>
        </section>

        <section class="card">
            <h2>{lang.pick("API tokens", "API-Tokens")}</h2>
            <p class="muted">
                {lang.pick(
                    "For CI/CD pipelines: send as \"Authorization: Bearer <token>\" to /api/v1.",
                    "Für CI/CD-Pipelines: als \"Authorization: Bearer <token>\" an /api/v1 senden.",
                )}
            </p>
            {issued}
            // Stays on the page: the secret is shown once and never stored in the browser.
            <ActionForm action=issue attr:class="row" attr:data-stay=""
                attr:data-ok=lang.pick("Copy the token now; it will not be shown again:", "Token jetzt kopieren; es wird nicht noch einmal angezeigt:")
                attr:data-ok-secret="secret">
                <label>
                    {lang.pick("Token name", "Name des Tokens")}
                    <input type="text" name="name" required maxlength="100"
                        placeholder=lang.pick("e.g. deploy pipeline", "z. B. Deploy-Pipeline")/>
                </label>
                <button type="submit">{lang.pick("Create token", "Token erstellen")}</button>
            </ActionForm>
            <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">{lang.pick("No tokens yet.", "Noch keine Tokens.")}</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="list">
                                <thead><tr>
                                    <th>{lang.pick("Name", "Name")}</th>
                                    <th>{lang.pick("Token", "Token")}</th>
                                    <th>{lang.pick("Created", "Erstellt")}</th>
                                    <th>{lang.pick("Last used", "Zuletzt benutzt")}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| {
                                        let status = match t.revoked_at {
                                            Some(_) => view! { <span class="badge">{lang.pick("revoked", "widerrufen")}</span> }.into_any(),
                                            None => view! {
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="token_id" value=t.id/>
                                                    <button type="submit" class="danger">{lang.pick("Revoke", "Widerrufen")}</button>
                                                </ActionForm>
                                            }.into_any(),
                                        };
                                        view! {
                                            <tr>
                                                <td>{t.name.clone()}</td>
                                                <td><code>{format!("{}…", t.prefix)}</code></td>
                                                <td>{berlin_display(&t.created_at)}</td>
                                                <td>{t.last_used_at.as_ref().map(berlin_display).unwrap_or_else(|| "–".into())}</td>
                                                <td>{status}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card">
            <h2>{lang.pick("Notifications", "Benachrichtigungen")}</h2>
            <p>
                {lang.pick(
                    "Shipgate e-mails you when a release waits for you and before its deadlines.",
                    "Shipgate schreibt Ihnen, wenn ein Release auf Sie wartet, und vor seinen Fristen.",
                )}" "
                <a href="/account/notifications" data-testid="notification-settings">
                    {lang.pick("Choose what you get e-mail about", "Wählen, worüber Sie E-Mails erhalten")}
                </a>
            </p>
        </section>
        <super::calendar_feeds::CalendarFeeds/>
    }
}
