//! A real OpenID provider for the single sign-on tests: `end2end/oidc/provider.mjs` (npm
//! `oidc-provider`, installed in `end2end/node_modules`) on loopback, one per test, and a
//! browser-less driver through Shipgate's sign-in with it.
//!
//! The driver keeps two cookie jars apart, as a browser would by site: Shipgate's
//! `shipgate_session` is handled explicitly (like everywhere in these tests), the
//! provider's cookies live in a reqwest cookie store. Both listen on 127.0.0.1, and cookies
//! do not tell ports apart, so the two never share a client.

use super::{client, session_cookie, TestApp};
use app::domain::sso::RoleMap;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use serde_json::{json, Map, Value};
use shipgate_server::config::{LocalLogin, Settings, SsoSettings};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use url::Url;

pub const CLIENT_ID: &str = "shipgate";
pub const CLIENT_SECRET: &str = "s3cret";
/// Where the provider sends the browser back: `{PUBLIC_BASE_URL}/auth/oidc/callback` of the
/// test settings. The tests never go there; they take `code` and `state` to the real address.
pub const REDIRECT_URI: &str = "http://shipgate.test/auth/oidc/callback";
pub const POST_LOGOUT_URI: &str = "http://shipgate.test/login";
/// The password of every account at the provider.
pub const IDP_PW: &str = "pw at the provider";
/// The button text after "Sign in with".
pub const DISPLAY_NAME: &str = "Test IdP";
/// The contract's example map: `*` gives everybody `viewer`.
pub const ROLE_MAP: &str = "admin=shipgate-admins;release_captain=release-captains,platform;product_owner=po;engineer=dev;viewer=*";

/// An account at the provider (the JSON its config and `PUT /test/accounts/:id` take):
/// a verified e-mail, a name made from it, the password [`IDP_PW`] and `groups`.
pub fn account(email: &str, groups: &[&str]) -> Value {
    let local = email.split('@').next().unwrap_or(email);
    json!({
        "password": IDP_PW,
        "email": email,
        "email_verified": true,
        "name": format!("{local} at the IdP"),
        "groups": groups,
    })
}

/// What the provider is started with (its `--config` file).
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub clients: Vec<Value>,
    pub accounts: Map<String, Value>,
    pub kid: String,
    pub id_token_claims: bool,
    pub tamper: String,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig::new()
    }
}

impl ProviderConfig {
    /// The client `shipgate` (secret `s3cret`) with the test settings' redirect URIs, no
    /// accounts, key `k1`, claims from userinfo, nothing tampered with.
    pub fn new() -> ProviderConfig {
        ProviderConfig {
            clients: vec![json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [REDIRECT_URI],
                "post_logout_redirect_uris": [POST_LOGOUT_URI],
            })],
            accounts: Map::new(),
            kid: "k1".into(),
            id_token_claims: false,
            tamper: "none".into(),
        }
    }

    /// Adds (or replaces) the account `id` (its `sub`, and what is typed as username).
    pub fn account(mut self, id: &str, account: Value) -> ProviderConfig {
        self.accounts.insert(id.to_string(), account);
        self
    }

    /// `true`: email, name and groups are in the ID token too, not only in userinfo.
    pub fn id_token_claims(mut self, yes: bool) -> ProviderConfig {
        self.id_token_claims = yes;
        self
    }

    /// The `shipgate` client without a secret: a public client, PKCE only.
    pub fn public_client(mut self) -> ProviderConfig {
        for c in &mut self.clients {
            if c["client_id"] == CLIENT_ID {
                c["client_secret"] = Value::Null;
            }
        }
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "clients": self.clients,
            "accounts": self.accounts,
            "kid": self.kid,
            "id_token_claims": self.id_token_claims,
            "tamper": self.tamper,
        })
    }

    /// Whether the `shipgate` client has a secret.
    fn has_secret(&self) -> bool {
        self.clients
            .iter()
            .find(|c| c["client_id"] == CLIENT_ID)
            .is_some_and(|c| c["client_secret"].is_string())
    }
}

/// The provider process. Killed when dropped.
pub struct OidcProvider {
    child: Option<Child>,
    pub port: u16,
    config: ProviderConfig,
    dir: PathBuf,
}

fn node() -> String {
    std::env::var("SHIPGATE_TEST_NODE").unwrap_or_else(|_| "node".into())
}

const END2END: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/oidc/provider.mjs");

impl OidcProvider {
    /// Starts the provider with `config` on a free port.
    pub fn start(config: ProviderConfig) -> OidcProvider {
        let modules = PathBuf::from(END2END).join("node_modules/oidc-provider");
        assert!(
            modules.is_dir(),
            "{} is missing: run `npm ci` in end2end/ (scripts/ensure-tools.sh --browser does)",
            modules.display()
        );
        let dir = super::scratch_dir("oidc");
        let mut p = OidcProvider {
            child: None,
            port: 0,
            config,
            dir,
        };
        p.spawn(None);
        p
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("provider.log")).unwrap_or_default()
    }

    /// Starts the process on `port` (or a free one) with the current config; the port is
    /// read from its first line, `PORT <n>`. A port just given up by the previous process
    /// may take a moment to be free again: that is retried for a few seconds.
    fn spawn(&mut self, port: Option<u16>) {
        let config_file = self.dir.join("config.json");
        let config = serde_json::to_vec_pretty(&self.config.to_json()).unwrap();
        std::fs::write(&config_file, config).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join("provider.log"))
                .unwrap();
            let mut child = Command::new(node())
                .arg(SCRIPT)
                .arg("--config")
                .arg(&config_file)
                .arg("--port")
                .arg(port.unwrap_or(0).to_string())
                .current_dir(END2END)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                // Its log stays beside its config, out of the test output.
                .stderr(log)
                .spawn()
                .expect("node runs (the OpenID provider needs it on PATH)");
            let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let said = line
                .trim()
                .strip_prefix("PORT ")
                .and_then(|p| p.parse::<u16>().ok());
            if let Some(n) = said {
                // Whatever it prints later goes to the log, so a full pipe never stalls it.
                let mut rest = std::fs::OpenOptions::new()
                    .append(true)
                    .open(self.dir.join("provider.log"))
                    .unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut out, &mut rest);
                });
                self.child = Some(child);
                self.port = n;
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            if port.is_none() || Instant::now() > deadline {
                panic!(
                    "the OpenID provider said {line:?} instead of `PORT <n>`: {}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the provider (it cannot be reached any more).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Key rotation: the provider restarts on the same port, with the same clients and
    /// accounts (as changed so far), signing with a fresh key named `kid`.
    pub fn restart_with_kid(&mut self, kid: &str) {
        self.stop();
        self.config.kid = kid.to_string();
        let port = self.port;
        self.spawn(Some(port));
        assert_eq!(self.port, port, "the provider restarted on its port");
    }

    /// Replaces (or adds) the account `id` at the running provider, and in the config a
    /// restart uses.
    pub async fn set_account(&mut self, id: &str, account: Value) {
        let url = format!("{}/test/accounts/{id}", self.issuer());
        let resp = client().put(&url).json(&account).send().await.unwrap();
        assert!(
            resp.status().is_success(),
            "PUT {url}: {} {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
        self.config.accounts.insert(id.to_string(), account);
    }

    /// From now on every ID token is rewritten: `none`, `nonce`, `expired`, `issuer`,
    /// `unknown_key` or `audience`.
    pub async fn set_tamper(&mut self, mode: &str) {
        let url = format!("{}/test/tamper", self.issuer());
        let body = json!({ "mode": mode });
        let resp = client().put(&url).json(&body).send().await.unwrap();
        assert!(
            resp.status().is_success(),
            "PUT {url} {body}: {} {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
        self.config.tamper = mode.to_string();
    }

    /// The provider's discovery document.
    pub async fn discovery(&self) -> Value {
        let url = format!("{}/.well-known/openid-configuration", self.issuer());
        let resp = client().get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "GET {url}");
        resp.json().await.unwrap()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SSO settings for Shipgate against `idp`: client `shipgate` (with the secret when the
/// provider's client has one), the standard scopes, groups from `groups`, [`ROLE_MAP`],
/// no group restriction, new users created.
pub fn sso_settings(idp: &OidcProvider) -> SsoSettings {
    SsoSettings {
        issuer_url: idp.issuer(),
        client_id: CLIENT_ID.into(),
        client_secret: idp.config().has_secret().then(|| CLIENT_SECRET.to_string()),
        scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
        display_name: DISPLAY_NAME.into(),
        groups_claim: "groups".into(),
        role_map: Some(role_map(ROLE_MAP)),
        allowed_groups: None,
        create_users: true,
    }
}

/// `OIDC_ROLE_MAP` as parsed.
pub fn role_map(spec: &str) -> RoleMap {
    RoleMap::parse(spec).unwrap_or_else(|e| panic!("role map {spec:?}: {e}"))
}

/// The test settings with SSO against `idp` and `local_login`.
pub fn sso_app_settings(idp: &OidcProvider, local_login: LocalLogin) -> Settings {
    let mut s = super::settings("postgres://unused");
    s.sso = Some(sso_settings(idp));
    s.local_login = local_login;
    s
}

/// The SSO part of `s` (which must have one), to adjust.
pub fn sso_of(s: &mut Settings) -> &mut SsoSettings {
    s.sso.as_mut().expect("SSO is configured")
}

/// The `Location` of a response (a redirect), as sent.
pub fn location(resp: &Response) -> String {
    let v = resp
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("a Location on the {} answer", resp.status()));
    v.to_str().unwrap().to_string()
}

/// The value of the query parameter `key` in `url` (absolute, or a path with a query).
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let query = query.split('#').next().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `url` with the query parameter `key` set to `value` (the others kept, in order).
pub fn with_query_param(url: &str, key: &str, value: &str) -> String {
    let mut u = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        q.append_pair(key, value);
    }
    u.to_string()
}

/// One sign-in through the provider as a browser makes it: the session cookie Shipgate
/// gave before it (holding the pending sign-in) and Shipgate's answer at the callback.
pub struct Attempt {
    pub before: String,
    pub resp: Response,
}

impl Attempt {
    /// The new session cookie of a sign-in that went through (a 303 away from `/login`),
    /// or the `Location` of a refusal.
    pub fn outcome(&self) -> Result<String, String> {
        outcome(&self.resp)
    }
}

/// The new session cookie of a callback answer that signed in (a 303 anywhere but
/// `/login`), or the `Location` of a refusal (`/login?error=…`).
pub fn outcome(resp: &Response) -> Result<String, String> {
    assert_eq!(resp.status(), 303, "the callback answers with a redirect");
    let to = location(resp);
    if to.starts_with("/login") {
        return Err(to);
    }
    Ok(session_cookie(resp)
        .unwrap_or_else(|| panic!("signed in (sent to {to}) without a new session cookie")))
}

/// A browser without JavaScript: Shipgate's cookie by hand, the provider's in a jar.
pub struct SsoBrowser {
    idp: Client,
}

impl Default for SsoBrowser {
    fn default() -> Self {
        SsoBrowser::new()
    }
}

impl SsoBrowser {
    /// A browser with an empty cookie jar (not signed in at the provider).
    pub fn new() -> SsoBrowser {
        SsoBrowser {
            idp: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    /// `GET /auth/oidc/login?next=…` at Shipgate: its session cookie (the pending sign-in)
    /// and the provider's authorization URL it redirects to.
    pub async fn start(&self, app: &TestApp, next: &str) -> (String, String) {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let resp = client()
            .get(app.url(&format!("/auth/oidc/login?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            303,
            "GET /auth/oidc/login?{query} redirects to the provider"
        );
        let cookie = session_cookie(&resp)
            .expect("GET /auth/oidc/login sets the session cookie holding the pending sign-in");
        (cookie, location(&resp))
    }

    /// At the provider: from `authorize_url` through its login page (`login`, `password`)
    /// to the redirect back to Shipgate; the callback URL (`http://shipgate.test/…`).
    /// A browser already signed in at the provider goes straight through. Panics, naming the
    /// step, when the provider does anything else.
    pub async fn login_at_provider(
        &self,
        authorize_url: &str,
        login: &str,
        password: &str,
    ) -> String {
        self.try_login_at_provider(authorize_url, login, password)
            .await
            .unwrap_or_else(|e| panic!("signing in at the provider as {login}: {e}"))
    }

    /// [`SsoBrowser::login_at_provider`], with what went wrong as an error.
    pub async fn try_login_at_provider(
        &self,
        authorize_url: &str,
        login: &str,
        password: &str,
    ) -> Result<String, String> {
        let mut url = Url::parse(authorize_url).map_err(|e| format!("{authorize_url}: {e}"))?;
        let mut resp = self.send(self.idp.get(url.clone()), &url).await?;
        let mut logged_in = false;
        for _ in 0..20 {
            let status = resp.status();
            if status.is_redirection() {
                let to = location(&resp);
                let next = url.join(&to).map_err(|e| format!("Location {to}: {e}"))?;
                if next.as_str().starts_with(REDIRECT_URI) {
                    return Ok(next.to_string());
                }
                url = next;
                resp = self.send(self.idp.get(url.clone()), &url).await?;
                continue;
            }
            let body = resp.text().await.map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!("GET {url} answered {status}: {body}"));
            }
            let form = Form::find(&body).ok_or_else(|| format!("{url}: no form in {body}"))?;
            let mut fields = form.hidden.clone();
            if form.inputs.iter().any(|i| i == "login") {
                if logged_in {
                    return Err(format!("the provider refused the credentials: {body}"));
                }
                logged_in = true;
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), password.into()));
            }
            let action = url
                .join(&form.action)
                .map_err(|e| format!("form action {}: {e}", form.action))?;
            url = action;
            resp = self
                .send(self.idp.post(url.clone()).form(&fields), &url)
                .await?;
        }
        Err(format!(
            "no redirect back to Shipgate after 20 steps (at {url})"
        ))
    }

    /// `GET url` at the provider, with this browser's cookies there (no redirect followed).
    pub async fn provider_get(&self, url: &str) -> Response {
        self.idp.get(url).send().await.unwrap()
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: &Url) -> Result<Response, String> {
        req.send().await.map_err(|e| format!("{url}: {e}"))
    }

    /// Back at Shipgate with what the provider put into `callback_url`, as the browser that
    /// holds `cookie`.
    pub async fn finish(app: &TestApp, cookie: &str, callback_url: &str) -> Response {
        let query = callback_url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default();
        Self::callback(app, Some(cookie), query).await
    }

    /// `GET /auth/oidc/callback?{query}` at Shipgate, with `cookie` (or none).
    pub async fn callback(app: &TestApp, cookie: Option<&str>, query: &str) -> Response {
        let mut req = client().get(app.url(&format!("/auth/oidc/callback?{query}")));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// A whole sign-in in this browser, landing on `next`: the cookie before and the
    /// callback's answer.
    pub async fn attempt_in(
        &self,
        app: &TestApp,
        next: &str,
        login: &str,
        password: &str,
    ) -> Attempt {
        let (before, authorize) = self.start(app, next).await;
        let callback = self.login_at_provider(&authorize, login, password).await;
        let resp = Self::finish(app, &before, &callback).await;
        Attempt { before, resp }
    }

    /// A whole sign-in in a fresh browser (nobody signed in at the provider).
    pub async fn attempt(app: &TestApp, login: &str, password: &str) -> Attempt {
        SsoBrowser::new()
            .attempt_in(app, "/", login, password)
            .await
    }

    /// A whole sign-in in a fresh browser: the new session cookie, or the `Location` of
    /// the refusal.
    pub async fn sign_in(app: &TestApp, login: &str, password: &str) -> Result<String, String> {
        Self::attempt(app, login, password).await.outcome()
    }
}

/// The first form of a page: where it posts, the names of its visible inputs, its hidden
/// fields.
struct Form {
    action: String,
    inputs: Vec<String>,
    hidden: Vec<(String, String)>,
}

impl Form {
    fn find(html: &str) -> Option<Form> {
        let start = html.find("<form")?;
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e);
        let form = &html[start..end];
        let tag_end = form.find('>')?;
        let action = attr(&form[..tag_end], "action").unwrap_or_default();
        let mut inputs = Vec::new();
        let mut hidden = Vec::new();
        let mut rest = &form[tag_end..];
        while let Some(at) = rest.find("<input") {
            let tag_len = rest[at..].find('>').unwrap_or(rest.len() - at);
            let tag = &rest[at..at + tag_len];
            if let Some(name) = attr(tag, "name") {
                if attr(tag, "type").as_deref() == Some("hidden") {
                    hidden.push((name, attr(tag, "value").unwrap_or_default()));
                } else {
                    inputs.push(name);
                }
            }
            rest = &rest[at + tag_len..];
        }
        Some(Form {
            action,
            inputs,
            hidden,
        })
    }
}

/// The value of the attribute `name` in the HTML tag `tag`, entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        for sep in [' ', '\n', '\t'] {
            let needle = format!("{sep}{name}={quote}");
            if let Some(at) = tag.find(&needle) {
                let value = &tag[at + needle.len()..];
                let value = &value[..value.find(quote)?];
                return Some(decode_entities(value));
            }
        }
    }
    None
}

fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
