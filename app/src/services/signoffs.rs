//! The Go/No-Go decision: the product owner and the release captain each sign `go` or
//! `no_go`, bound to a hash of what they saw. This is the one place a sign-off is written.

use super::audit::{self, Entry};
use super::lifecycle::apply_phase_change;
use super::release_store::{checklist, evidence, known_issues, lock, sign_offs};
use super::ServiceError;
use crate::domain::account::{Credential, CurrentUser};
use crate::domain::release::content::{content_hash, preconditions};
use crate::domain::release::{
    check_sign_off, go_no_go_verdict, is_stale, precondition_blockers, Decision, Phase,
    SignAttempt, SignRefusal, SignerRole, Verdict,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

fn refusal(r: SignRefusal) -> ServiceError {
    match r {
        SignRefusal::BrowserSessionRequired => ServiceError::SessionRequired,
        SignRefusal::WrongPhase(_) => ServiceError::Conflict {
            en: "The release is not waiting for the Go/No-Go decision.",
            de: "Das Release wartet nicht auf den Go/No-Go-Entscheid.",
        },
        SignRefusal::MissingRole | SignRefusal::NotAssigned => ServiceError::OnlyFor {
            en: "Only the product owner and the release captain assigned to this release sign its Go/No-Go.",
            de: "Keine Berechtigung: Nur der diesem Release zugeordnete Product Owner und Release Captain geben das Go/No-Go frei.",
        },
        SignRefusal::SamePersonTwice => ServiceError::Conflict {
            en: "Product owner and release captain must be two different people.",
            de: "Product Owner und Release Captain müssen zwei verschiedene Personen sein.",
        },
        SignRefusal::CommentRequired => ServiceError::Invalid {
            field: "comment",
            en: "Say why: a no-go needs a comment.",
            de: "Bitte begründen: ein No-Go braucht einen Kommentar.",
        },
        SignRefusal::PreconditionsUnmet => ServiceError::Conflict {
            en: "The preconditions are not met (backup < 24 h, restore test < 30 days, down-migration, on-call).",
            de: "Die Voraussetzungen sind nicht erfüllt (Backup < 24 h, Restore-Test < 30 Tage, Down-Migration, On-Call).",
        },
    }
}

/// Records a sign-off. Both `go` on the current content moves the release to `go_live`;
/// any `no_go` moves it to `no_go`.
pub async fn sign_off(
    pool: &PgPool,
    me: &CurrentUser,
    release_id: i64,
    role: SignerRole,
    decision: Decision,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Verdict, ServiceError> {
    let actor = me.actor();
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    let items = checklist(&mut tx, release_id).await?;
    let issues = known_issues(&mut tx, release_id).await?;
    let evidence = evidence(&mut tx, release_id).await?;
    let hash = content_hash(&r, &items, &issues, &evidence);
    let existing = sign_offs(&mut tx, release_id).await?;
    if existing
        .iter()
        .any(|s| s.role == role && !is_stale(s, &hash))
    {
        return Err(ServiceError::Conflict {
            en: "This role has signed already.",
            de: "Für diese Rolle liegt bereits eine Freigabe vor.",
        });
    }
    let (assigned, other) = match role {
        SignerRole::ProductOwner => (&r.product_owner, &r.release_captain),
        SignerRole::ReleaseCaptain => (&r.release_captain, &r.product_owner),
    };
    let id_of = |email: &Option<String>| {
        email
            .as_deref()
            .filter(|e| *e == me.user.email)
            .map(|_| me.user.id)
    };
    let pre = precondition_blockers(&preconditions(&r), now);
    check_sign_off(&SignAttempt {
        role,
        decision,
        comment,
        signer_id: me.user.id,
        signer_holds_role: me.user.has_role(role.account_role()),
        via_browser_session: me.via == Credential::Session,
        phase: r.phase,
        assigned_id: id_of(assigned).or(assigned.as_ref().map(|_| -1)),
        other_signer_id: id_of(other).or_else(|| {
            existing
                .iter()
                .find(|s| s.role != role)
                .map(|s| s.signer_id)
        }),
        preconditions: &pre,
    })
    .map_err(refusal)?;
    // ON CONFLICT: of two simultaneous sign-offs for a role exactly one is stored; a stale
    // one may be replaced by a fresh one.
    let stored = sqlx::query_scalar!(
        "INSERT INTO sign_offs (release_id, role, signer_id, decision, comment, content_hash)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (release_id, role) DO UPDATE
           SET signer_id = EXCLUDED.signer_id, decision = EXCLUDED.decision,
               comment = EXCLUDED.comment, content_hash = EXCLUDED.content_hash, signed_at = now()
           WHERE sign_offs.content_hash <> EXCLUDED.content_hash
         RETURNING id",
        release_id,
        role.as_str(),
        me.user.id,
        decision.as_str(),
        comment.unwrap_or_default().trim(),
        hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    if stored.is_none() {
        return Err(ServiceError::Conflict {
            en: "This role has signed already.",
            de: "Für diese Rolle liegt bereits eine Freigabe vor.",
        });
    }
    audit::append(
        &mut tx,
        &actor,
        Entry {
            action: "go_no_go.sign_off",
            release_id: Some(release_id),
            old: None,
            new: Some(json!({
                "role": role, "decision": decision, "comment": comment, "content_hash": hash
            })),
        },
    )
    .await?;
    let verdict = go_no_go_verdict(&sign_offs(&mut tx, release_id).await?, &hash);
    match verdict {
        Verdict::Go => apply_phase_change(&mut tx, &actor, &r, Phase::GoLive).await?,
        Verdict::NoGo { .. } => apply_phase_change(&mut tx, &actor, &r, Phase::NoGo).await?,
        Verdict::Pending { .. } => {}
    }
    tx.commit().await?;
    Ok(verdict)
}
