//! Admin: the team's accounts, their roles, and disabling an account; links to the audit
//! log and the checklist templates.

use super::{use_lang, use_user};
use crate::domain::account::{Role, UserRecord, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use crate::server_fns::accounts::{
    list_users, CreateUser, SetUserDisabled, SetUserPassword, UpdateUserRoles,
};
use leptos::prelude::*;
use leptos_meta::Title;

/// One checkbox per role, all named `roles[]` with the role as value: the server functions
/// take the ticked ones as a list of roles.
#[component]
fn RoleBoxes(lang: Lang, #[prop(optional)] checked: Vec<Role>) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| {
            let is_checked = checked.contains(&role);
            view! {
                <label class="check">
                    <input type="checkbox" name="roles[]" value=role.as_str() checked=is_checked/>
                    {role.label(lang)}
                </label>
            }
        })
        .collect_view()
}

/// What an account without the admin role sees instead of an admin page, answered with 403.
pub(super) fn needs_admin(lang: Lang, title: &'static str) -> AnyView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text=title/>
        <section class="card">
            <h1>{title}</h1>
            <p class="alert error" role="alert">
                {lang.pick("This page needs the admin role.", "Diese Seite erfordert die Admin-Rolle.")}
            </p>
        </section>
    }
    .into_any()
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let lang = use_lang();
    if !use_user().is_some_and(|u| u.is_admin()) {
        return needs_admin(lang, lang.pick("Admin", "Admin"));
    }

    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUserRoles>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let password = ServerAction::<SetUserPassword>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                disable.version().get(),
            )
        },
        |_| list_users(),
    );
    let outcome = move || {
        let failed = [
            create.value().get().and_then(|r| r.err()),
            update.value().get().and_then(|r| r.err()),
            disable.value().get().and_then(|r| r.err()),
            password.value().get().and_then(|r| r.err()),
        ];
        failed
            .into_iter()
            .flatten()
            .next()
            .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|u| {
            view! {
                <p class="alert ok" role="status">
                    {lang.pick("Account created: ", "Konto angelegt: ")}{u.user.email}
                </p>
            }
        })
    };

    view! {
        <Title text=lang.pick("Users", "Benutzer")/>
        <section class="card">
            <div class="row-between">
                <h1>{lang.pick("Users", "Benutzer")}</h1>
                <nav class="links">
                    <a href="/admin/audit">{lang.pick("Audit log", "Audit-Log")}</a>
                    " · "
                    <a href="/admin/templates">{lang.pick("Checklist templates", "Checklisten-Vorlagen")}</a>
                    " · "<a href="/admin/outbox">{lang.pick("Outbox", "Postausgang")}</a>
                </nav>
            </div>
            {outcome}
            <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="list users">
                                <thead><tr>
                                    <th>{lang.pick("Person", "Person")}</th>
                                    <th>{lang.pick("Roles", "Rollen")}</th>
                                    <th>{lang.pick("State", "Zustand")}</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|u| view! { <UserRow lang u update disable password/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>

        <section class="card">
            <h2>{lang.pick("Add a user", "Benutzer anlegen")}</h2>
            {created}
            <ActionForm action=create attr:class="stack" attr:id="create-user"
                attr:data-ok=lang.pick("Account created: ", "Konto angelegt: ") attr:data-ok-field="email">
                <label>
                    {lang.pick("Email", "E-Mail")}
                    <input type="email" name="email" autocomplete="off" required/>
                </label>
                <label>
                    {lang.pick("Name", "Name")}
                    <input type="text" name="name" maxlength="200"/>
                </label>
                <label>
                    {lang.pick("Initial password (at least 8 characters)", "Startpasswort (mindestens 8 Zeichen)")}
                    <input type="password" name="password" autocomplete="new-password" required
                        minlength=PASSWORD_MIN_CHARS maxlength=PASSWORD_MAX_CHARS/>
                </label>
                <fieldset class="roles">
                    <legend>{lang.pick("Roles", "Rollen")}</legend>
                    <RoleBoxes lang/>
                </fieldset>
                <button type="submit" class="primary">{lang.pick("Add user", "Benutzer anlegen")}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn UserRow(
    lang: Lang,
    u: UserRecord,
    update: ServerAction<UpdateUserRoles>,
    disable: ServerAction<SetUserDisabled>,
    password: ServerAction<SetUserPassword>,
) -> impl IntoView {
    let id = u.user.id;
    let state = if u.disabled {
        lang.pick("disabled", "gesperrt")
    } else {
        lang.pick("active", "aktiv")
    };
    let (toggle_to, toggle_label) = if u.disabled {
        ("false", lang.pick("Enable", "Entsperren"))
    } else {
        ("true", lang.pick("Disable", "Sperren"))
    };
    view! {
        <tr data-email=u.user.email.clone()>
            <td>
                <strong>{u.user.display_name().to_string()}</strong><br/>
                <span class="muted">{u.user.email.clone()}</span><br/>
                <small class="muted">{lang.pick("since ", "seit ")}{berlin_display(&u.created_at)}</small>
            </td>
            <td>
                <ActionForm action=update attr:class="roles-form">
                    <input type="hidden" name="user_id" value=id/>
                    <RoleBoxes lang checked=u.user.roles.clone()/>
                    <button type="submit">{lang.pick("Save roles", "Rollen speichern")}</button>
                </ActionForm>
            </td>
            <td>
                <span class=if u.disabled { "badge warn" } else { "badge" }>{state}</span>
                <ActionForm action=disable attr:class="inline">
                    <input type="hidden" name="user_id" value=id/>
                    <input type="hidden" name="disabled" value=toggle_to/>
                    <button type="submit" class=if u.disabled { "" } else { "danger" }>{toggle_label}</button>
                </ActionForm>
                // People who sign in through the provider have no password; an admin can give
                // one (break-glass), which also ends their sessions.
                <details class="set-password">
                    <summary>{lang.pick("Set password", "Passwort setzen")}</summary>
                    <ActionForm action=password attr:class="stack"
                        attr:data-ok=lang.pick("Password set; that person's sessions have ended.", "Passwort gesetzt; die Sitzungen dieser Person sind beendet.")>
                        <input type="hidden" name="user_id" value=id/>
                        <label>
                            {lang.pick("New password (at least 8 characters)", "Neues Passwort (mindestens 8 Zeichen)")}
                            <input type="password" name="password" autocomplete="new-password" required
                                minlength=PASSWORD_MIN_CHARS maxlength=PASSWORD_MAX_CHARS/>
                        </label>
                        <button type="submit">{lang.pick("Set password", "Passwort setzen")}</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}
