//! Pages whose content arrives with later work; they already have their place in the navigation.

use super::use_lang;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Empty(title: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <section class="card">
            <h1>{title}</h1>
            <p class="muted">{text}</p>
        </section>
    }
}

#[component]
pub fn ArchivePage() -> impl IntoView {
    let l = use_lang();
    view! {
        <Empty
            title=l.pick("Release archive", "Release-Archiv")
            text=l.pick("No finished releases yet.", "Noch keine abgeschlossenen Releases.")
        />
    }
}
