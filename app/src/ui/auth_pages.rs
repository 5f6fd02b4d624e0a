//! Sign-in and first-admin registration. Plain HTML forms posting to `/auth/*`: they work
//! without JavaScript, and the full page load afterwards starts the page with the new session.

use super::use_lang;
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::domain::sso::{LocalLogin, SsoRefusal};
use crate::i18n::Lang;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for an `?error=` code the `/auth/*` handlers redirect back with.
pub fn auth_error_text(lang: Lang, code: &str) -> &'static str {
    if let Some(refusal) = SsoRefusal::from_code(code) {
        return refusal.text(lang);
    }
    match code {
        "invalid_credentials" => lang.pick(
            "Unknown email or wrong password.",
            "Unbekannte E-Mail-Adresse oder falsches Passwort.",
        ),
        "local_login" => lang.pick(
            "Sign-in with a password is not open to this account; please use single sign-on.",
            "Die Anmeldung mit Passwort steht diesem Konto nicht offen; bitte Single Sign-on verwenden.",
        ),
        "too_many_requests" => lang.pick(
            "Too many failed sign-in attempts. Please wait a few minutes and try again.",
            "Zu viele fehlgeschlagene Anmeldeversuche. Bitte einige Minuten warten und erneut versuchen.",
        ),
        "email" => lang.pick(
            "Enter a valid email address.",
            "Bitte eine gültige E-Mail-Adresse eingeben.",
        ),
        "password" => lang.pick(
            "The password needs 8 to 256 characters.",
            "Das Passwort braucht 8 bis 256 Zeichen.",
        ),
        "confirm" => lang.pick(
            "The two passwords differ.",
            "Die beiden Passwörter stimmen nicht überein.",
        ),
        "name" => lang.pick(
            "The name is too long (at most 200 characters).",
            "Der Name ist zu lang (höchstens 200 Zeichen).",
        ),
        "set_up" => lang.pick(
            "Shipgate is set up already; ask an admin for an account.",
            "Shipgate ist bereits eingerichtet; ein Admin kann Ihnen ein Konto anlegen.",
        ),
        _ => lang.pick(
            "Something went wrong on our side; please try again.",
            "Auf unserer Seite ist ein Fehler aufgetreten; bitte erneut versuchen.",
        ),
    }
}

/// The status the login page answers with when it shows `?error=code`, so a refused
/// sign-in is a 4xx for scripts and monitors too.
#[cfg(feature = "ssr")]
fn error_status(code: &str) -> Option<http::StatusCode> {
    let status = match code {
        "" => return None,
        "too_many_requests" => 429,
        "invalid_credentials" => 401,
        "local_login" => 403,
        code => SsoRefusal::from_code(code)?.status(),
    };
    http::StatusCode::from_u16(status).ok()
}

/// How people may sign in here: who may use a password, and the provider's name if single
/// sign-on is on.
fn sign_in_options() -> (LocalLogin, Option<String>) {
    #[cfg(feature = "ssr")]
    if let Some(state) = use_context::<crate::state::AppState>() {
        return (state.auth.local_login, state.auth.sso_display_name.clone());
    }
    (LocalLogin::On, None)
}

/// `value` for a URL's query string.
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let q = move |k: &str| query.with_untracked(|m| m.get(k).unwrap_or_default());
    let error = q("error");
    // A refused sign-in lands here; the page then answers 4xx like the API does.
    #[cfg(feature = "ssr")]
    if let Some(status) = error_status(&error) {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(status);
        }
    }
    let (local, sso) = sign_in_options();
    let password_error = matches!(
        error.as_str(),
        "invalid_credentials" | "local_login" | "too_many_requests"
    );
    let error = (!error.is_empty()).then(|| {
        view! { <p class="alert error" role="alert">{auth_error_text(lang, &error)}</p> }
    });
    let signed_out = (q("signed_out") == "sso").then(|| {
        sso.clone().map(|name| {
            view! {
                <p class="alert ok" role="status">
                    {lang.pick("You are signed out of Shipgate.", "Sie sind von Shipgate abgemeldet.")}
                    " "
                    <a id="sso-logout" href="/auth/oidc/logout">
                        {lang.pick("Also sign out at ", "Auch abmelden bei ")}{name}
                    </a>
                </p>
            }
        })
    });
    let sso_button = sso.map(|name| {
        let href = format!("/auth/oidc/login?next={}", query_value(&q("next")));
        view! {
            <p>
                <a id="sso-login" class="button primary" href=href>
                    {lang.pick("Sign in with ", "Anmelden mit ")}{name}
                </a>
            </p>
        }
    });
    let form = move || {
        view! {
            <form method="post" action="/auth/login" class="stack">
                <input type="hidden" name="next" value=q("next")/>
                <label>
                    {lang.pick("Email", "E-Mail")}
                    <input type="email" name="email" autocomplete="username" required value=q("email")/>
                </label>
                <label>
                    {lang.pick("Password", "Passwort")}
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" class="primary">{lang.pick("Sign in", "Anmelden")}</button>
            </form>
        }
    };
    let password = match local {
        LocalLogin::On => Some(form().into_any()),
        // Break-glass: kept out of the way, open again after a failed try.
        LocalLogin::AdminsOnly => Some(
            view! {
                <details id="local-login" open=password_error>
                    <summary>
                        {lang.pick(
                            "Sign in with a local account (administrators)",
                            "Mit lokalem Konto anmelden (Administratoren)",
                        )}
                    </summary>
                    {form()}
                </details>
            }
            .into_any(),
        ),
        LocalLogin::Off => None,
    };
    view! {
        <Title text=lang.pick("Sign in", "Anmelden")/>
        <section class="card narrow">
            <h1>{lang.pick("Sign in to Shipgate", "Bei Shipgate anmelden")}</h1>
            {signed_out}
            {error}
            {sso_button}
            {password}
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let q = move |k: &str| query.with_untracked(|m| m.get(k).unwrap_or_default());
    let error = q("error");
    let error = (!error.is_empty()).then(|| {
        view! { <p class="alert error" role="alert">{auth_error_text(lang, &error)}</p> }
    });
    view! {
        <Title text=lang.pick("Set up Shipgate", "Shipgate einrichten")/>
        <section class="card narrow">
            <h1>{lang.pick("Set up Shipgate", "Shipgate einrichten")}</h1>
            <p>
                {lang.pick(
                    "This instance has no accounts yet. The account you create now becomes the first admin.",
                    "Diese Instanz hat noch keine Konten. Das Konto, das Sie jetzt anlegen, wird der erste Admin.",
                )}
            </p>
            {error}
            <form method="post" action="/auth/register" class="stack">
                <label>
                    {lang.pick("Name", "Name")}
                    <input type="text" name="name" autocomplete="name" maxlength="200" value=q("name")/>
                </label>
                <label>
                    {lang.pick("Email", "E-Mail")}
                    <input type="email" name="email" autocomplete="username" required value=q("email")/>
                </label>
                <label>
                    {lang.pick("Password (at least 8 characters)", "Passwort (mindestens 8 Zeichen)")}
                    <input type="password" name="password" autocomplete="new-password" required
                        minlength=PASSWORD_MIN_CHARS maxlength=PASSWORD_MAX_CHARS/>
                </label>
                <label>
                    {lang.pick("Repeat the password", "Passwort wiederholen")}
                    <input type="password" name="confirm" autocomplete="new-password" required
                        minlength=PASSWORD_MIN_CHARS maxlength=PASSWORD_MAX_CHARS/>
                </label>
                <button type="submit" class="primary">{lang.pick("Create admin account", "Admin-Konto anlegen")}</button>
            </form>
        </section>
    }
}
