//! The OpenID provider as Shipgate sees it: its discovery document and signing keys (fetched
//! when first needed, refreshed hourly and whenever a token names a key we do not know, so
//! the provider can rotate keys), the authorization request, the code exchange and the
//! verification of the ID token and the userinfo answer.

use super::settings::SsoSettings;
use app::domain::sso::{groups_from_claim, SsoRefusal};
use app::services::sso::SsoIdentity;
use chrono::Utc;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken,
    IdTokenFields, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, SubjectIdentifier,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Claims beyond the standard ones (the groups claim among them), by name.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type ShipgateIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Discovery and keys are fetched again after this long.
const METADATA_MAX_AGE: Duration = Duration::from_secs(3600);
/// A token with an unknown key makes us fetch the keys again, at most this often.
const KEY_REFRESH_MIN_GAP: Duration = Duration::from_secs(1);
/// ID tokens are accepted this long past their expiry (clocks drift).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

/// A sign-in under way: what the callback must find again in the same browser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    pub started_at_ms: i64,
}

/// A failed step, with the detail for the log.
#[derive(Debug)]
pub struct Failure {
    pub refusal: SsoRefusal,
    pub detail: String,
}

fn fail(refusal: SsoRefusal, detail: impl std::fmt::Display) -> Failure {
    Failure {
        refusal,
        detail: detail.to_string(),
    }
}

/// What a finished sign-in hands over: who, and the raw ID token (the logout hint).
pub struct Verified {
    pub identity: SsoIdentity,
    pub id_token: String,
}

struct Discovered {
    metadata: ProviderMetadataWithLogout,
    fetched: Instant,
}

pub struct Provider {
    pub settings: SsoSettings,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    http: reqwest::Client,
    discovered: Mutex<Option<Discovered>>,
}

impl Provider {
    pub fn new(settings: SsoSettings, public_base_url: &str) -> anyhow::Result<Provider> {
        let base = public_base_url.trim_end_matches('/');
        Ok(Provider {
            redirect: RedirectUrl::new(format!("{base}/auth/oidc/callback"))?,
            post_logout: PostLogoutRedirectUrl::new(format!("{base}/login"))?,
            // Following redirects from a provider's endpoints is how SSRF starts; the
            // openidconnect crate asks for a client that does not.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()?,
            settings,
            discovered: Mutex::new(None),
        })
    }

    /// The discovery document and keys: cached, or fetched when stale, missing or when
    /// `keys_unknown` says a token was signed by a key we do not have.
    async fn metadata(&self, keys_unknown: bool) -> Result<ProviderMetadataWithLogout, Failure> {
        let mut cached = self.discovered.lock().await;
        if let Some(d) = cached.as_ref() {
            let age = d.fetched.elapsed();
            let fresh = age < METADATA_MAX_AGE && !(keys_unknown && age >= KEY_REFRESH_MIN_GAP);
            if fresh {
                return Ok(d.metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer_url.clone())
            .map_err(|e| fail(SsoRefusal::Unreachable, e))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                fail(
                    SsoRefusal::Unreachable,
                    format!("discovery failed: {}", error_chain(&e)),
                )
            })?;
        *cached = Some(Discovered {
            metadata: metadata.clone(),
            fetched: Instant::now(),
        });
        Ok(metadata)
    }

    fn client(&self, metadata: ProviderMetadataWithLogout) -> OidcClient {
        // Basic auth is the default; a provider that only takes the secret in the body says so.
        let post_only = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| {
                m.contains(&CoreClientAuthMethod::ClientSecretPost)
                    && !m.contains(&CoreClientAuthMethod::ClientSecretBasic)
            });
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone());
        if post_only || self.settings.client_secret.is_none() {
            client.set_auth_type(AuthType::RequestBody)
        } else {
            client
        }
    }

    /// Where to send the browser to sign in, and what to remember until it comes back.
    pub async fn start(&self, next: &str) -> Result<(String, Pending), Failure> {
        let client = self.client(self.metadata(false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                next: next.to_string(),
                started_at_ms: Utc::now().timestamp_millis(),
            },
        ))
    }

    /// Exchanges the code and verifies what comes back.
    pub async fn finish(&self, pending: &Pending, code: &str) -> Result<Verified, Failure> {
        let client = self.client(self.metadata(false).await?);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| fail(SsoRefusal::Provider, e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    fail(SsoRefusal::Provider, format!("token endpoint refused: {r}"))
                }
                openidconnect::RequestTokenError::Request(e) => fail(
                    SsoRefusal::Unreachable,
                    format!("token endpoint: {}", error_chain(&e)),
                ),
                other => fail(SsoRefusal::Provider, format!("token endpoint: {other}")),
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| fail(SsoRefusal::Token, "the token response has no ID token"))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(&client, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // The provider may have rotated its keys since we fetched them.
                let client = self.client(self.metadata(true).await?);
                self.verify(&client, id_token, &nonce)
            }
            other => other,
        }
        .map_err(|e| fail(SsoRefusal::Token, format!("ID token: {e}")))?;
        let mut identity = SsoIdentity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string())
                .or_else(|| claims.preferred_username().map(|u| u.to_string())),
            groups: groups_from_claim(
                claims
                    .additional_claims()
                    .claims
                    .get(&self.settings.groups_claim),
            ),
        };
        let has_groups = claims
            .additional_claims()
            .claims
            .contains_key(&self.settings.groups_claim);
        // Many providers keep e-mail, name and groups out of the ID token and answer them
        // at the userinfo endpoint; the ID token's own claims come first.
        if let Ok(request) = client.user_info(
            tokens.access_token().clone(),
            Some(SubjectIdentifier::new(identity.subject.clone())),
        ) {
            let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> =
                request.request_async(&self.http).await.map_err(|e| {
                    fail(
                        SsoRefusal::Provider,
                        format!("userinfo: {}", error_chain(&e)),
                    )
                })?;
            if identity.email.is_none() {
                identity.email = info.email().map(|e| e.to_string());
                identity.email_verified = info.email_verified().unwrap_or(false);
            }
            if identity.name.is_none() {
                identity.name = info
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string())
                    .or_else(|| info.preferred_username().map(|u| u.to_string()));
            }
            if !has_groups {
                identity.groups = groups_from_claim(
                    info.additional_claims()
                        .claims
                        .get(&self.settings.groups_claim),
                );
            }
        }
        Ok(Verified {
            identity,
            id_token: id_token.to_string(),
        })
    }

    fn verify<'t>(
        &self,
        client: &OidcClient,
        id_token: &'t ShipgateIdToken,
        nonce: &Nonce,
    ) -> Result<
        &'t openidconnect::IdTokenClaims<OtherClaims, CoreGenderClaim>,
        ClaimsVerificationError,
    > {
        let verifier = client
            .id_token_verifier()
            // Tolerate a minute of clock drift between us and the provider.
            .set_time_fn(|| Utc::now() - CLOCK_SKEW);
        id_token.claims(&verifier, nonce)
    }

    /// The provider's sign-out address (RP-initiated logout), if it publishes one.
    pub async fn logout_url(&self, id_token: Option<&str>) -> Result<Option<String>, Failure> {
        let metadata = self.metadata(false).await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.settings.client_id.clone()))
            .set_post_logout_redirect_uri(self.post_logout.clone());
        if let Some(hint) = id_token.and_then(|t| t.parse::<ShipgateIdToken>().ok()) {
            request = request.set_id_token_hint(&hint);
        }
        Ok(Some(request.http_get_url().to_string()))
    }
}

/// An error with its causes, for the log (reqwest's own message hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
