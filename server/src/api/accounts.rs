//! `/api/v1` endpoints for the caller, sessions, users and API tokens.

use super::{ApiError, ApiJson, ApiUser};
use crate::web::ClientAddr;
use app::auth;
use app::domain::account::{IssuedToken, TokenInfo, UserInfo, UserRecord};
use app::services::accounts::{self, NewUser, UserChange};
use app::services::tokens;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/session", post(sign_in).delete(sign_out))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/users/{id}/password", put(set_password))
        .route("/tokens", get(list_tokens).post(issue_token))
        .route("/tokens/{id}", delete(revoke_token))
}

/// A person as the API shows them: roles by name, email as the identifier.
#[derive(Serialize)]
struct Person {
    id: i64,
    email: String,
    name: String,
    roles: Vec<&'static str>,
}

impl From<&UserInfo> for Person {
    fn from(u: &UserInfo) -> Self {
        Person {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            roles: u.roles.iter().map(|r| r.as_str()).collect(),
        }
    }
}

#[derive(Serialize)]
struct UserView {
    #[serde(flatten)]
    person: Person,
    disabled: bool,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<UserRecord> for UserView {
    fn from(r: UserRecord) -> Self {
        UserView {
            person: Person::from(&r.user),
            disabled: r.disabled,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    session: Session,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Json<Person>, ApiError> {
    let signed_in = accounts::authenticate(
        &state.pool,
        &state.throttle,
        state.auth.local_login,
        &c.email,
        &c.password,
        addr,
    )
    .await?;
    auth::start_session(&session, &signed_in).await?;
    Ok(Json(Person::from(&signed_in.user)))
}

async fn sign_out(session: Session) -> Result<StatusCode, ApiError> {
    auth::end_session(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(ApiUser(me): ApiUser) -> Json<Person> {
    Json(Person::from(&me.user))
}

#[derive(Deserialize)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password; every other session of theirs ends.
async fn change_password(
    State(state): State<AppState>,
    user: ApiUser,
    session: Session,
    ApiJson(b): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let me = user.require_session()?;
    let epoch = accounts::change_password(
        &state.pool,
        &state.throttle,
        &me.user,
        &b.current_password,
        &b.new_password,
    )
    .await?;
    auth::adopt_epoch(&session, epoch).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_users(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let list = accounts::list_users(&state.pool, &user.actor()).await?;
    Ok(Json(list.into_iter().map(UserView::from).collect()))
}

#[derive(Deserialize)]
struct NewUserBody {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    roles: Vec<String>,
}

async fn create_user(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(b): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let created = accounts::create_user(
        &state.pool,
        &user.actor(),
        NewUser {
            email: b.email,
            name: b.name,
            password: b.password,
            roles: b.roles,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize)]
struct UserPatch {
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

/// An admin sets someone's password (for instance a break-glass password for a person who
/// signs in through single sign-on); that person's sessions end.
async fn set_password(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    accounts::set_password(&state.pool, &user.actor(), id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn update_user(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(p): ApiJson<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let updated = accounts::update_user(
        &state.pool,
        &user.actor(),
        id,
        UserChange {
            roles: p.roles,
            disabled: p.disabled,
        },
    )
    .await?;
    Ok(Json(updated.into()))
}

async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(tokens::list(&state.pool, me.user.id).await?))
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

async fn issue_token(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(b): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let me = user.require_session()?;
    let issued = tokens::issue(&state.pool, me.user.id, &b.name).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    tokens::revoke(&state.pool, me.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
