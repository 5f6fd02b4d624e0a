//! Sign-in and first-admin registration. Plain HTML forms posting to `/auth/*`: they work
//! without JavaScript, and the full page load afterwards starts the page with the new session.

use super::use_lang;
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::i18n::Lang;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for an `?error=` code the `/auth/*` handlers redirect back with.
pub fn auth_error_text(lang: Lang, code: &str) -> &'static str {
    match code {
        "invalid_credentials" => lang.pick(
            "Unknown email or wrong password.",
            "Unbekannte E-Mail-Adresse oder falsches Passwort.",
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

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let q = move |k: &str| query.with_untracked(|m| m.get(k).unwrap_or_default());
    let error = q("error");
    // A throttled sign-in lands here; the page then answers 429 like the API does.
    #[cfg(feature = "ssr")]
    if error == "too_many_requests" {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::TOO_MANY_REQUESTS);
        }
    }
    let error = (!error.is_empty()).then(|| {
        view! { <p class="alert error" role="alert">{auth_error_text(lang, &error)}</p> }
    });
    view! {
        <Title text=lang.pick("Sign in", "Anmelden")/>
        <section class="card narrow">
            <h1>{lang.pick("Sign in to Shipgate", "Bei Shipgate anmelden")}</h1>
            {error}
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
