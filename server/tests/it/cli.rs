//! The `shipgate` binary as an operator uses it: configuration errors, migrations both
//! ways, adding a user with the password on stdin, issuing a token.

use crate::common::*;
use serde_json::Value;
use sqlx::PgPool;

#[test]
fn a_bad_setting_stops_with_one_line_naming_the_variable() {
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[], "DATABASE_URL"),
        (
            &[
                ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
                ("LOG_LEVEL", "chatty"),
            ],
            "LOG_LEVEL",
        ),
        (
            &[
                ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
                ("LEPTOS_SITE_ADDR", "nowhere"),
            ],
            "LEPTOS_SITE_ADDR",
        ),
    ];
    for (env, var) in cases {
        let out = shipgate(&["serve"], env, None);
        assert_eq!(out.status.code(), Some(2), "{var}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(var), "names {var}: {err}");
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn migrations_go_down_one_step_and_up_again(pool: PgPool) {
    let url = database_url(&pool).await;
    let env = [("DATABASE_URL", url.as_str())];
    let tables = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('users', 'releases', 'evidence', 'environments', 'dossiers', 'calendar_feeds')",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(tables(pool.clone()).await, 6);

    // The first `down` reverts single sign-on: a person without a password keeps their
    // account, with a password nobody knows, and the provider columns go.
    sqlx::query(
        "INSERT INTO users (email, password_hash, roles, oidc_issuer, oidc_subject)
         VALUES ('sso@example.org', NULL, '{viewer}', 'https://id.example.org', 'sub-1')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let down = shipgate(&["migrate", "down"], &env, None);
    assert!(down.status.success(), "{}", stderr(&down));
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'sso@example.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let sso_columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name LIKE 'oidc_%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sso_columns, 0);
    assert_eq!(tables(pool.clone()).await, 6);

    // Each further `down` reverts one migration: notifications (the outbox turns back into the
    // webhook deliveries), go-live and dossiers, monitoring, evidence, releases, then
    // accounts.
    for left in [5, 4, 3, 2, 1, 0] {
        let down = shipgate(&["migrate", "down"], &env, None);
        assert!(down.status.success(), "{}", stderr(&down));
        assert_eq!(tables(pool.clone()).await, left);
    }

    let up = shipgate(&["migrate", "up"], &env, None);
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(tables(pool.clone()).await, 6);
    let again = shipgate(&["migrate", "up"], &env, None);
    assert!(
        again.status.success(),
        "up twice is harmless: {}",
        stderr(&again)
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn operator_adds_a_user_and_issues_a_token(pool: PgPool) {
    let url = database_url(&pool).await;
    let env = [("DATABASE_URL", url.as_str())];
    let added = shipgate(
        &[
            "user",
            "add",
            "PO@example.org",
            "--role",
            "product_owner",
            "--role",
            "viewer",
            "--name",
            "Paula",
        ],
        &env,
        Some("a long enough password\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));

    let short = shipgate(
        &["user", "add", "x@example.org", "--role", "viewer"],
        &env,
        Some("short\n"),
    );
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("8 characters"),
        "{}",
        stderr(&short)
    );
    let unknown_role = shipgate(
        &["user", "add", "y@example.org", "--role", "boss"],
        &env,
        Some("long enough pw\n"),
    );
    assert!(!unknown_role.status.success());

    let issued = shipgate(
        &["token", "issue", "po@example.org", "--name", "ci"],
        &env,
        None,
    );
    assert!(issued.status.success(), "{}", stderr(&issued));
    let token = String::from_utf8(issued.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("sg_"));

    let app = spawn_app(pool).await;
    let me = app.get_bearer("/api/v1/me", &token).await;
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "po@example.org");
    assert_eq!(me["name"], "Paula");
    assert_eq!(me["roles"], serde_json::json!(["product_owner", "viewer"]));
    assert_eq!(
        app.sign_in("po@example.org", "a long enough password")
            .await
            .status(),
        200
    );

    // Break-glass from the host: a new password, the old one gone.
    let set = shipgate(
        &["user", "set-password", "po@example.org"],
        &env,
        Some("another long password\n"),
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        app.sign_in("po@example.org", "a long enough password")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.sign_in("po@example.org", "another long password")
            .await
            .status(),
        200
    );
    let by: String = sqlx::query_scalar(
        "SELECT new_value->>'by' FROM audit_log WHERE action = 'user.password' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(by, "cli");
    let nobody = shipgate(
        &["user", "set-password", "nobody@example.org"],
        &env,
        Some("another long password\n"),
    );
    assert!(!nobody.status.success());
    assert!(
        stderr(&nobody).contains("no account"),
        "{}",
        stderr(&nobody)
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn demo_seeds_every_phase_and_the_audit_chain_verifies(pool: PgPool) {
    let url = database_url(&pool).await;
    let env = [("DATABASE_URL", url.as_str())];
    let demo = shipgate(&["demo"], &env, None);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let phases: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT phase FROM releases ORDER BY phase")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        phases,
        [
            "done",
            "draft",
            "go_live",
            "go_no_go",
            "no_go",
            "rolled_back",
            "staging_gate"
        ]
    );
    let again = shipgate(&["demo"], &env, None);
    assert!(!again.status.success(), "demo refuses a non-empty instance");

    let verify = shipgate(&["audit", "verify"], &env, None);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact"));

    // An edit behind the trigger's back is found and named.
    let edit = "UPDATE audit_log SET action = 'nothing to see' WHERE id = 5";
    behind_the_audit_trigger(&pool, edit).await;
    let broken = shipgate(&["audit", "verify"], &env, None);
    assert!(!broken.status.success());
    assert!(stderr(&broken).contains("id 5"), "{}", stderr(&broken));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_audit_head_kept_outside_shows_a_rewritten_chain(pool: PgPool) {
    use app::services::audit::{self, Entry};
    use app::services::Actor;
    let url = database_url(&pool).await;
    let env = [("DATABASE_URL", url.as_str())];
    let add = |email: &str| {
        let out = shipgate(
            &["user", "add", email, "--role", "viewer"],
            &env,
            Some("a long enough password\n"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    };

    let empty = shipgate(&["audit", "head"], &env, None);
    assert_eq!(
        empty.status.code(),
        Some(1),
        "no head while the log is empty"
    );
    assert!(stderr(&empty).contains("empty"), "{}", stderr(&empty));

    add("a@example.org");
    add("b@example.org");
    let issued = shipgate(
        &["token", "issue", "a@example.org", "--name", "ci"],
        &env,
        None,
    );
    assert!(issued.status.success(), "{}", stderr(&issued));
    let head = shipgate(&["audit", "head"], &env, None);
    assert!(head.status.success(), "{}", stderr(&head));
    let printed = stdout(&head);
    assert_eq!(printed.lines().count(), 1, "one line: {printed}");
    let kept = printed.trim().to_string();
    let (id, hash) = kept.split_once(':').expect("ID:HASH");
    let newest: (i64, String, String) =
        sqlx::query_as("SELECT id, hash, actor FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (id.parse::<i64>().unwrap(), hash),
        (newest.0, newest.1.as_str())
    );
    // The operator's own changes are in the chain, as the command line.
    assert_eq!(newest.2, "cli");

    // The chain grows on; the kept head still holds.
    add("c@example.org");
    let verified = shipgate(&["audit", "verify", "--head", &kept], &env, None);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(
        stdout(&verified).contains("intact"),
        "{}",
        stdout(&verified)
    );
    let plain = shipgate(&["audit", "verify"], &env, None);
    assert!(plain.status.success(), "{}", stderr(&plain));

    // A head the chain does not hold fails with exit 1 and says why.
    let wrong_hash = format!("{id}:{}", "0".repeat(64));
    let wrong = shipgate(&["audit", "verify", "--head", &wrong_hash], &env, None);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("DIFFERS"), "{}", stderr(&wrong));
    let missing_row = format!("999999:{hash}");
    let missing = shipgate(&["audit", "verify", "--head", &missing_row], &env, None);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("MISSING"), "{}", stderr(&missing));
    let unreadable = shipgate(&["audit", "verify", "--head", "latest"], &env, None);
    assert_eq!(unreadable.status.code(), Some(1));
    assert!(
        stderr(&unreadable).contains("ID:HASH"),
        "{}",
        stderr(&unreadable)
    );

    // Whoever owns the database rewrites history and re-chains it from the start: the
    // chain alone verifies again, the kept head does not.
    let rows = query_i64(&pool, "SELECT count(*) FROM audit_log").await;
    let mut tx = pool.begin().await.unwrap();
    for sql in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DELETE FROM audit_log",
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
        "ALTER TABLE audit_log ALTER COLUMN id RESTART WITH 1",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }
    for i in 0..rows {
        audit::append(
            &mut tx,
            &Actor::Cli,
            Entry {
                action: "user.create",
                release_id: None,
                old: None,
                new: Some(serde_json::json!({ "email": format!("forged{i}@example.org") })),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let rechained = shipgate(&["audit", "verify"], &env, None);
    assert!(rechained.status.success(), "{}", stderr(&rechained));
    let anchored = shipgate(&["audit", "verify", "--head", &kept], &env, None);
    assert_eq!(anchored.status.code(), Some(1), "{}", stderr(&anchored));
    assert!(
        stderr(&anchored).contains("DIFFERS"),
        "{}",
        stderr(&anchored)
    );
}

/// Logs written to a pipe or a file (a collector, `journald`, CI) carry no colour codes.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn logs_off_a_terminal_carry_no_colour_codes(pool: PgPool) {
    let url = database_url(&pool).await;
    let out = shipgate(
        &["migrate", "up"],
        &[("DATABASE_URL", &url), ("LOG_LEVEL", "debug")],
        None,
    );
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("DEBUG"), "something was logged: {log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a piped log");
}
