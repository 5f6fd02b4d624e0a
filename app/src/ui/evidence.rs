//! Evidence on the release page: attach (file picker, drag and drop, pasted screenshots,
//! each upload with a progress bar), a thumbnail gallery with a lightbox, logs and files,
//! and retracting. Without JavaScript the picker posts a plain form and the thumbnails
//! link to the full image.

use super::use_lang;
use crate::domain::evidence::{human_size, Evidence, Kind};
use crate::server_fns::evidence::RetractEvidence;
use leptos::prelude::*;

/// One file on its way up.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub name: String,
    pub loaded: f64,
    pub total: f64,
    pub done: bool,
    pub error: Option<String>,
}

/// What the release page shares with every evidence block: the retract action (its
/// refusal comes back in the URL when a form was posted without JavaScript).
#[derive(Clone, Copy)]
pub struct EvidenceCtx {
    pub retract: ServerAction<RetractEvidence>,
}

impl EvidenceCtx {
    pub fn new() -> Self {
        EvidenceCtx {
            retract: ServerAction::new(),
        }
    }
}

impl Default for EvidenceCtx {
    fn default() -> Self {
        Self::new()
    }
}

pub fn file_url(e: &Evidence) -> String {
    format!("/api/v1/releases/{}/evidence/{}", e.release_id, e.id)
}

/// Where uploads for a target go; `target` is `item=<key>` or `section=<name>`.
fn upload_url(release_id: i64, target: &str) -> String {
    format!("/api/v1/releases/{release_id}/evidence?{target}")
}

/// The evidence attached to one target, and (for workers) the way to add more.
#[component]
pub fn EvidenceBlock(
    release_id: i64,
    /// `item=<key>` or `section=<name>`.
    target: String,
    items: Vec<Evidence>,
    can_attach: bool,
) -> impl IntoView {
    let lang = use_lang();
    let live: Vec<Evidence> = items.into_iter().filter(|e| !e.is_retracted()).collect();
    let images: Vec<Evidence> = live
        .iter()
        .filter(|e| e.kind == Kind::Image)
        .cloned()
        .collect();
    let others: Vec<Evidence> = live
        .iter()
        .filter(|e| e.kind != Kind::Image)
        .cloned()
        .collect();
    let gallery = (!images.is_empty()).then(|| {
        view! {
            <ul class="gallery">
                {images.into_iter().map(|e| {
                    let full = file_url(&e);
                    let thumb = format!("{full}/thumbnail");
                    let name = e.filename.clone();
                    view! {
                        <li data-evidence=e.id>
                            // The lightbox island opens these in place; without it, a new tab.
                            <a href=full.clone() class="thumb" target="_blank" data-name=name.clone()>
                                <img src=thumb alt=name.clone() loading="lazy" width="160"/>
                            </a>
                            <small class="muted">{name}</small>
                            <RetractForm e=e.clone() can=can_attach/>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    });
    let files = (!others.is_empty()).then(|| {
        view! {
            <ul class="files">
                {others.into_iter().map(|e| {
                    let url = file_url(&e);
                    let viewer = (e.kind == Kind::Log)
                        .then(|| format!("/releases/{}/evidence/{}", e.release_id, e.id));
                    view! {
                        <li data-evidence=e.id>
                            {match viewer {
                                Some(v) => view! { <a href=v class="log-link">{e.filename.clone()}</a> }.into_any(),
                                None => view! { <a href=url.clone() download="">{e.filename.clone()}</a> }.into_any(),
                            }}
                            <small class="muted">" · "{human_size(e.size)}" · "
                                <a href=url download="">{lang.pick("download", "herunterladen")}</a>
                            </small>
                            <RetractForm e=e.clone() can=can_attach/>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    });
    view! {
        <div class="evidence">
            {gallery}
            {files}
            {can_attach.then(|| view! { <Attach release_id target=target.clone()/> })}
        </div>
    }
}

#[component]
fn RetractForm(e: Evidence, can: bool) -> impl IntoView {
    let lang = use_lang();
    let ctx = expect_context::<EvidenceCtx>();
    can.then(|| {
        view! {
            <details class="retract">
                <summary>{lang.pick("Retract", "Zurückziehen")}</summary>
                <ActionForm action=ctx.retract attr:class="row">
                    <input type="hidden" name="release_id" value=e.release_id/>
                    <input type="hidden" name="evidence_id" value=e.id/>
                    <input type="text" name="reason" required
                        placeholder=lang.pick("Why is it retracted?", "Warum zurückziehen?")
                        aria-label=lang.pick("Reason", "Grund")/>
                    <button type="submit" class="danger">{lang.pick("Retract", "Zurückziehen")}</button>
                </ActionForm>
            </details>
        }
    })
}

/// The attach area: a plain multipart form (works without JavaScript), enhanced in the
/// browser with drag and drop, pasting and per-file progress. When every file has landed
/// the page loads again and shows them.
#[island]
// On the server the upload closure captures nothing and is Copy; in the browser it is not.
#[allow(clippy::clone_on_copy)]
pub fn Attach(release_id: i64, target: String) -> impl IntoView {
    let lang = use_lang();
    let uploads: RwSignal<Vec<Upload>> = RwSignal::new(Vec::new());
    let url = upload_url(release_id, &target);
    let action = format!("{url}&return=/releases/{release_id}");
    let dragging = RwSignal::new(false);
    let picker: NodeRef<leptos::html::Input> = NodeRef::new();
    let progress = move || {
        uploads
            .get()
            .into_iter()
            .map(|u| {
                let pct = if u.total > 0.0 { u.loaded / u.total * 100.0 } else { 0.0 };
                view! {
                    <li class="upload" data-done=u.done.to_string()>
                        <span>{u.name.clone()}</span>
                        <progress max="100" value=if u.done { 100.0 } else { pct }></progress>
                        {u.error.clone().map(|e| view! { <span class="alert error" role="alert">{e}</span> })}
                    </li>
                }
            })
            .collect_view()
    };
    #[allow(unused_variables)]
    let start = {
        let url = url.clone();
        move |files: Vec<BrowserFile>| {
            #[cfg(feature = "hydrate")]
            for f in files {
                browser::upload(url.clone(), f, uploads, lang);
            }
        }
    };
    let on_drop = {
        let start = start.clone();
        move |ev: leptos::ev::DragEvent| {
            ev.prevent_default();
            dragging.set(false);
            #[cfg(feature = "hydrate")]
            start(browser::files_of_drop(&ev));
            #[cfg(not(feature = "hydrate"))]
            let _ = (&ev, &start);
        }
    };
    let on_paste = {
        let start = start.clone();
        move |ev: leptos::ev::ClipboardEvent| {
            #[cfg(feature = "hydrate")]
            {
                let files = browser::files_of_paste(&ev);
                if !files.is_empty() {
                    ev.prevent_default();
                    start(files);
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&ev, &start);
        }
    };
    // Files picked while the page was still loading (before this island hydrated) are
    // sent now rather than silently left in the picker.
    #[cfg(feature = "hydrate")]
    {
        let start = start.clone();
        Effect::new(move |_| {
            if let Some(input) = picker.get() {
                let files = browser::take_files(&input);
                if !files.is_empty() {
                    start(files);
                }
            }
        });
    }
    let on_pick = {
        let start = start.clone();
        move |ev: leptos::ev::Event| {
            #[cfg(feature = "hydrate")]
            start(browser::files_of_input(&ev));
            #[cfg(not(feature = "hydrate"))]
            let _ = (&ev, &start);
        }
    };
    view! {
        <form method="post" enctype="multipart/form-data" action=action
            class=move || if dragging.get() { "dropzone dragging" } else { "dropzone" }
            tabindex="0"
            data-target=target.clone()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
            on:paste=on_paste
        >
            <label class="muted">
                {lang.pick("Attach evidence: drop files here, paste a screenshot, or ", "Nachweis anhängen: Dateien hierher ziehen, Screenshot einfügen oder ")}
                <input type="file" name="file" multiple node_ref=picker on:change=on_pick/>
            </label>
            <noscript><button type="submit">{lang.pick("Upload", "Hochladen")}</button></noscript>
            <ul class="uploads">{progress}</ul>
        </form>
    }
}

/// A file the browser handed over (a `web_sys::File` in the browser; nothing on the server).
#[cfg(feature = "hydrate")]
pub type BrowserFile = web_sys::File;
#[cfg(not(feature = "hydrate"))]
pub type BrowserFile = ();

/// The full-size image over the page: a thumbnail (`a.thumb`) opens it, Escape or a click
/// closes it.
#[island]
pub fn Lightbox() -> impl IntoView {
    let lang = use_lang();
    let open: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    let close = move |_| open.set(None);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                open.set(None);
            }
        });
        let clicks = window_event_listener(leptos::ev::click, move |ev| {
            let thumb = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a.thumb").ok().flatten());
            if let Some(a) = thumb {
                ev.prevent_default();
                let href = a.get_attribute("href").unwrap_or_default();
                let name = a.get_attribute("data-name").unwrap_or_default();
                open.set(Some((href, name)));
            }
        });
        on_cleanup(move || {
            keys.remove();
            clicks.remove();
        });
    }
    move || {
        open.get().map(|(url, name)| {
            view! {
                <div class="lightbox" role="dialog" aria-modal="true" aria-label=name.clone() on:click=close>
                    <figure on:click=|ev| ev.stop_propagation()>
                        <img src=url.clone() alt=name.clone()/>
                        <figcaption>{name.clone()}" · "<a href=url download="">{lang.pick("download", "herunterladen")}</a></figcaption>
                    </figure>
                    <button type="button" class="close" aria-label=lang.pick("Close", "Schließen") on:click=close>"×"</button>
                </div>
            }
        })
    }
}

/// Retracted evidence, kept visible for the record.
#[component]
pub fn RetractedList(items: Vec<Evidence>) -> impl IntoView {
    let lang = use_lang();
    let retracted: Vec<Evidence> = items.into_iter().filter(|e| e.is_retracted()).collect();
    (!retracted.is_empty()).then(|| {
        view! {
            <details class="card" data-testid="retracted-evidence">
                <summary>{lang.pick("Retracted evidence", "Zurückgezogene Nachweise")}" ("{retracted.len()}")"</summary>
                <ul>
                    {retracted.into_iter().map(|e| view! {
                        <li>
                            <a href=file_url(&e) download="">{e.filename.clone()}</a>
                            <small class="muted">" · "{e.retracted_by.clone().unwrap_or_default()}": "{e.retract_reason.clone().unwrap_or_default()}</small>
                        </li>
                    }).collect_view()}
                </ul>
            </details>
        }
    })
}

/// The retract action's refusal, if any, in the reader's language.
pub fn retract_failure(ctx: EvidenceCtx) -> impl Fn() -> Option<AnyView> {
    let lang = use_lang();
    move || {
        ctx.retract
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any())
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Upload;
    use crate::i18n::Lang;
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    fn list(files: Option<web_sys::FileList>) -> Vec<web_sys::File> {
        let Some(files) = files else {
            return Vec::new();
        };
        (0..files.length()).filter_map(|i| files.get(i)).collect()
    }

    pub fn files_of_drop(ev: &web_sys::DragEvent) -> Vec<web_sys::File> {
        list(ev.data_transfer().and_then(|d| d.files()))
    }

    pub fn files_of_paste(ev: &web_sys::ClipboardEvent) -> Vec<web_sys::File> {
        list(ev.clipboard_data().and_then(|d| d.files()))
    }

    pub fn files_of_input(ev: &web_sys::Event) -> Vec<web_sys::File> {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|i| take_files(&i))
            .unwrap_or_default()
    }

    /// The files in a picker, which is emptied so that the same file can be picked again.
    pub fn take_files(input: &web_sys::HtmlInputElement) -> Vec<web_sys::File> {
        let files = list(input.files());
        input.set_value("");
        files
    }

    fn error_message(text: Option<String>, status: u16, lang: Lang) -> String {
        text.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| match status {
                0 => lang
                    .pick(
                        "The connection was lost; nothing was stored.",
                        "Die Verbindung ist abgerissen; nichts wurde gespeichert.",
                    )
                    .to_string(),
                413 => lang
                    .pick("The file is too large.", "Die Datei ist zu groß.")
                    .to_string(),
                _ => format!(
                    "{} {status}",
                    lang.pick("Upload failed:", "Hochladen fehlgeschlagen:")
                ),
            })
    }

    /// Sends one file with its own progress bar; when every file of the block has landed
    /// without a refusal, the page loads again and lists them.
    pub fn upload(url: String, file: web_sys::File, uploads: RwSignal<Vec<Upload>>, lang: Lang) {
        let name = file.name();
        let idx = {
            let mut i = 0;
            uploads.update(|u| {
                i = u.len();
                u.push(Upload {
                    name: name.clone(),
                    loaded: 0.0,
                    total: file.size(),
                    done: false,
                    error: None,
                })
            });
            i
        };
        let fail = move |msg: String| {
            uploads.update(|u| {
                if let Some(row) = u.get_mut(idx) {
                    row.error = Some(msg);
                }
            })
        };
        let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
            return fail("XMLHttpRequest".into());
        };
        let Ok(form) = web_sys::FormData::new() else {
            return fail("FormData".into());
        };
        if form
            .append_with_blob_and_filename("file", &file, &name)
            .is_err()
            || xhr.open_with_async("POST", &url, true).is_err()
        {
            return fail(
                lang.pick("Upload failed.", "Hochladen fehlgeschlagen.")
                    .into(),
            );
        }
        let progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                uploads.update(|u| {
                    if let Some(row) = u.get_mut(idx) {
                        row.loaded = e.loaded();
                        if e.length_computable() {
                            row.total = e.total();
                        }
                    }
                })
            });
        if let Ok(up) = xhr.upload() {
            up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        progress.forget();
        let x = xhr.clone();
        let done = Closure::<dyn FnMut()>::new(move || {
            let status = x.status().unwrap_or(0);
            if (200..300).contains(&status) {
                uploads.update(|u| {
                    if let Some(row) = u.get_mut(idx) {
                        row.done = true;
                    }
                });
                let all_landed = uploads.with_untracked(|u| u.iter().all(|r| r.done));
                if all_landed {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().reload();
                    }
                }
            } else {
                fail(error_message(
                    x.response_text().ok().flatten(),
                    status,
                    lang,
                ));
            }
        });
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        done.forget();
        if xhr.send_with_opt_form_data(Some(&form)).is_err() {
            fail(
                lang.pick("Upload failed.", "Hochladen fehlgeschlagen.")
                    .into(),
            );
        }
    }
}
