//! argon2id with the library defaults, which are OWASP's recommendation
//! (19 MiB memory, 2 iterations, 1 lane). Hashing runs off the async runtime.

use super::ServiceError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// Each hash takes ~19 MiB and a core for a while; bursts queue instead of exhausting memory.
static HASHING: Semaphore = Semaphore::const_new(4);

async fn permit() -> Result<tokio::sync::SemaphorePermit<'static>, ServiceError> {
    HASHING
        .acquire()
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// Verifies a password. With no stored hash (unknown email) it still does the work of one
/// verification, so response times do not reveal which accounts exist.
pub async fn verify(stored_hash: Option<String>, password: String) -> Result<bool, ServiceError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let known = stored_hash.is_some();
        let stored = stored_hash.unwrap_or_else(|| dummy_hash().to_string());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| ServiceError::Internal(format!("stored hash unreadable: {e}")))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a real password", &salt)
            .expect("argon2 hashes a constant")
            .to_string()
    })
}
