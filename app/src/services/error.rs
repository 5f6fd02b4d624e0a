use crate::i18n::Lang;

/// What can go wrong in a use case. Edges map it to HTTP statuses or page messages;
/// internal detail (`Db`, `Internal`) is logged there and never shown.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{field}: {en}")]
    Invalid {
        field: &'static str,
        en: &'static str,
        de: &'static str,
    },
    #[error("not found")]
    NotFound,
    #[error("{en}")]
    Conflict { en: &'static str, de: &'static str },
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, in words that say who may do it ("Only the release's captain or product
    /// owner may …"); answered as [`ServiceError::Forbidden`] is.
    #[error("{en}")]
    OnlyFor { en: &'static str, de: &'static str },
    /// Only a person at a signed-in browser may do this (password, new tokens), never an
    /// API token: a stolen token must not lock its owner out or mint itself successors.
    #[error("a browser session is required")]
    SessionRequired,
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The password was right, but `LOCAL_LOGIN` keeps this account to single sign-on.
    #[error("password sign-in is not open to this account")]
    LocalLoginRefused,
    #[error("too many attempts, retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(field: &'static str, en: &'static str, de: &'static str) -> Self {
        ServiceError::Invalid { field, en, de }
    }

    /// A stable, machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid { .. } => "validation_failed",
            ServiceError::NotFound => "not_found",
            ServiceError::Conflict { .. } => "conflict",
            ServiceError::Forbidden | ServiceError::OnlyFor { .. } => "forbidden",
            ServiceError::SessionRequired => "session_required",
            ServiceError::InvalidCredentials => "invalid_credentials",
            ServiceError::LocalLoginRefused => "local_login",
            ServiceError::Throttled { .. } => "too_many_requests",
            ServiceError::Db(e) if db_unreachable(e) => "unavailable",
            ServiceError::Db(_) | ServiceError::Internal(_) => "internal",
        }
    }

    /// The message a person may see, in their language. Never internal detail.
    pub fn user_message(&self, lang: Lang) -> String {
        match self {
            ServiceError::Invalid { en, de, .. }
            | ServiceError::Conflict { en, de }
            | ServiceError::OnlyFor { en, de } => {
                lang.pick(en, de).to_string()
            }
            ServiceError::NotFound => lang.pick("Not found.", "Nicht gefunden.").into(),
            ServiceError::Forbidden => lang
                .pick(
                    "You are not allowed to do this.",
                    "Dafür fehlt Ihnen die Berechtigung.",
                )
                .into(),
            ServiceError::SessionRequired => lang
                .pick(
                    "This needs a signed-in browser session; API tokens cannot do it.",
                    "Dafür ist eine angemeldete Browser-Sitzung nötig; API-Tokens können das nicht.",
                )
                .into(),
            ServiceError::InvalidCredentials => lang
                .pick(
                    "Unknown email or wrong password.",
                    "Unbekannte E-Mail-Adresse oder falsches Passwort.",
                )
                .into(),
            ServiceError::LocalLoginRefused => lang
                .pick(
                    "Sign-in with a password is not open to this account; use single sign-on.",
                    "Die Anmeldung mit Passwort steht diesem Konto nicht offen; bitte Single Sign-on verwenden.",
                )
                .into(),
            ServiceError::Throttled { retry_after_secs } => match lang {
                Lang::En => format!(
                    "Too many failed sign-in attempts. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
                Lang::De => format!(
                    "Zu viele fehlgeschlagene Anmeldeversuche. Bitte in {} Minuten erneut versuchen.",
                    retry_after_secs.div_ceil(60)
                ),
            },
            ServiceError::Db(_) | ServiceError::Internal(_) => lang
                .pick(
                    "Something went wrong on our side. Nothing was changed; please try again.",
                    "Auf unserer Seite ist ein Fehler aufgetreten. Es wurde nichts geändert; bitte erneut versuchen.",
                )
                .into(),
        }
    }

    /// The HTTP status every edge answers this with (REST and server functions alike).
    /// A database that cannot be reached is an outage (503), not a bug (500).
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::NotFound => StatusCode::NOT_FOUND,
            ServiceError::Conflict { .. } => StatusCode::CONFLICT,
            ServiceError::Forbidden
            | ServiceError::OnlyFor { .. }
            | ServiceError::SessionRequired
            | ServiceError::LocalLoginRefused => StatusCode::FORBIDDEN,
            ServiceError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ServiceError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Db(e) if db_unreachable(e) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Db(_) | ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn is_internal(&self) -> bool {
        matches!(self, ServiceError::Db(_) | ServiceError::Internal(_))
    }
}

/// The database could not be reached at all (down, restarting, pool exhausted).
pub fn db_unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    )
}

/// Turns a unique-constraint violation into a conflict the user can act on.
pub fn unique_violation_as(err: sqlx::Error, conflict: ServiceError) -> ServiceError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => conflict,
        _ => ServiceError::Db(err),
    }
}

impl From<crate::domain::release::input::InputError> for ServiceError {
    fn from(e: crate::domain::release::input::InputError) -> Self {
        ServiceError::Invalid {
            field: e.field,
            en: e.en,
            de: e.de,
        }
    }
}
