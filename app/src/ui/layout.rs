use super::{use_lang, use_user};
use crate::domain::account::Role;
use crate::i18n::Lang;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// Header with navigation, language switch and the account menu, around every page.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let lang = use_lang();
    let user = use_user();
    let nav = user.as_ref().map(|u| {
        let admin = u.has_role(Role::Admin);
        view! {
            <nav class="main-nav" aria-label=lang.pick("Main", "Hauptnavigation")>
                <A href="/releases">{lang.pick("Releases", "Releases")}</A>
                <A href="/status">{lang.pick("Status", "Status")}</A>
                <A href="/archive">{lang.pick("Archive", "Archiv")}</A>
                <A href="/delivery">{lang.pick("Delivery", "Lieferung")}</A>
                <A href="/environments">{lang.pick("Environments", "Umgebungen")}</A>
                {admin.then(|| view! { <A href="/admin">{lang.pick("Admin", "Admin")}</A> })}
            </nav>
        }
    });
    let account = user.as_ref().map(|u| {
        let name = u.display_name().to_string();
        view! {
            <div class="account-menu">
                <A href="/account" attr:class="account-link">{name}</A>
                <form method="post" action="/auth/logout" class="inline">
                    <button type="submit" class="link-button">{lang.pick("Sign out", "Abmelden")}</button>
                </form>
            </div>
        }
    });
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Shipgate"</a>
            {nav}
            <div class="topbar-end">
                <LanguageSwitch lang/>
                {account}
            </div>
        </header>
        <main class="page">{children()}</main>
        // Last, so that every island before it has hydrated when it marks the page.
        <super::enhance::Enhancer/>
    }
}

/// A plain form, so switching works without JavaScript; the choice is kept in a cookie.
#[component]
fn LanguageSwitch(lang: Lang) -> impl IntoView {
    let location = use_location();
    let back = move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!(
                "{}?{}",
                location.pathname.get(),
                search.trim_start_matches('?')
            )
        }
    };
    let (other, label) = match lang {
        Lang::En => ("de", "Deutsch"),
        Lang::De => ("en", "English"),
    };
    view! {
        <form method="post" action="/lang" class="inline lang-switch">
            <input type="hidden" name="lang" value=other/>
            <input type="hidden" name="back" value=back/>
            <button type="submit" class="link-button" lang=other>{label}</button>
        </form>
    }
}
