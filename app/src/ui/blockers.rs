//! The one way a list of blockers (why a gate is closed, why a step cannot be recorded yet)
//! is shown: one `<li>` per blocker, in the words of its [`Label`].

use super::use_lang;
use crate::domain::release::Blocker;
use crate::i18n::Label;
use leptos::prelude::*;

/// A `<ul>` with one item per blocker; nothing inside when there are none.
#[component]
pub fn BlockerList(
    blockers: Vec<Blocker>,
    /// The list's `class`, if it has one.
    #[prop(optional)]
    class: Option<&'static str>,
    /// The list's `data-testid`, if it has one.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// Words a place uses for a blocker instead of its label (e.g. for who is looking);
    /// `None` from it keeps the label.
    #[prop(optional)]
    reword: Option<Callback<Blocker, Option<String>>>,
) -> impl IntoView {
    let lang = use_lang();
    let items = blockers
        .into_iter()
        .map(|b| {
            let text = match reword.and_then(|r| r.run(b.clone())) {
                Some(own) => own,
                None => b.label(lang).into_owned(),
            };
            view! { <li>{text}</li> }
        })
        .collect_view();
    // Without a class the list has no `class` attribute at all, as before.
    match class {
        Some(class) => view! { <ul class=class data-testid=testid>{items}</ul> }.into_any(),
        None => view! { <ul data-testid=testid>{items}</ul> }.into_any(),
    }
}
