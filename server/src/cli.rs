//! The `shipgate` command line: serve, migrate, and account administration for operators.

use crate::config::{ConfigError, Env, Settings};
use crate::startup::{self, Application};
use crate::{telemetry, MIGRATOR};
use anyhow::Context;
use app::services::accounts::{self, NewUser};
use app::services::{audit, tokens, Actor};
use clap::{Parser, Subcommand};
use sqlx::migrate::MigrateDatabase;
use sqlx::{PgPool, Postgres};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "shipgate", version, about = "Shipgate: release coordination")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Apply or revert database migrations.
    Migrate {
        #[command(subcommand)]
        direction: Migrate,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Seed an empty instance with a demo team and releases in every phase.
    Demo,
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check stored evidence.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Check sealed release dossiers.
    Dossier {
        #[command(subcommand)]
        command: DossierCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum DossierCommand {
    /// Check an exported dossier (JSON): its content against its sha256, its bytes against
    /// the export, and, with DATABASE_URL set, against the dossier sealed in the database
    /// (naming every changed field). Exit 0 when unchanged, 1 when anything changed.
    Verify { file: std::path::PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Re-hash every stored object; exit 0 when all match, else list each mismatch or
    /// missing object.
    Verify,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 0 when intact, else name the first broken row.
    /// With --head, also prove that the chain still holds a head written down earlier.
    Verify {
        /// A head as `shipgate audit head` printed it (ID:HASH). Whoever owns the database
        /// can rewrite the log and re-chain it; they cannot make an old head match again.
        #[arg(long, value_name = "ID:HASH")]
        head: Option<String>,
    },
    /// Print the chain's newest row as ID:HASH, one line, to keep outside the database
    /// (a ticket, a CI artifact) for a later `audit verify --head`.
    Head,
}

#[derive(Subcommand, Debug)]
pub enum Migrate {
    /// Create the database if needed and apply all pending migrations.
    Up,
    /// Revert the most recent migration (one step).
    Down,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        email: String,
        /// admin, release_captain, product_owner, engineer or viewer; repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Set an account's password (break-glass, e.g. for someone who signs in through single
    /// sign-on); it is read from standard input, and the account's sessions end.
    SetPassword { email: String },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue an API token for a user and print it on standard output.
    Issue {
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn env() -> Env<impl Fn(&str) -> Option<String>> {
    Env(|k| std::env::var(k).ok())
}

pub async fn run(cli: Cli) -> ExitCode {
    match run_inner(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(c) = e.downcast_ref::<ConfigError>() {
                eprintln!("{c}");
                return ExitCode::from(2);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Serve = command {
        let settings = Settings::from_env()?;
        telemetry::init(&settings.log);
        let pool = startup::pool(&settings.database_url)?;
        warn_about_pending_migrations(&pool).await;
        let app = Application::build(&settings, pool).await?;
        tracing::info!(address = %app.local_addr(), public = %settings.public_base_url, "Shipgate is listening");
        return app.run_until_stopped().await;
    }
    let log = env().log()?;
    telemetry::init(&log);
    if let Command::Dossier {
        command: DossierCommand::Verify { file },
    } = &command
    {
        return verify_dossier(file).await;
    }
    let database_url = env().database_url()?;
    match command {
        Command::Serve | Command::Dossier { .. } => unreachable!("handled above"),
        Command::Migrate {
            direction: Migrate::Up,
        } => {
            if !Postgres::database_exists(&database_url)
                .await
                .context("cannot reach the database")?
            {
                Postgres::create_database(&database_url)
                    .await
                    .context("cannot create the database")?;
                eprintln!("created the database");
            }
            let pool = connect(&database_url).await?;
            MIGRATOR.run(&pool).await.context("migration failed")?;
            let sealed = app::services::dossier::seal_unsealed(&pool)
                .await
                .map_err(|e| anyhow::anyhow!("sealing ended releases: {e}"))?;
            if sealed > 0 {
                eprintln!(
                    "sealed the dossiers of {sealed} releases that ended before dossiers existed"
                );
            }
            eprintln!("database is up to date");
        }
        Command::Migrate {
            direction: Migrate::Down,
        } => {
            let pool = connect(&database_url).await?;
            let applied: Vec<i64> = sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations ORDER BY version DESC LIMIT 2",
            )
            .fetch_all(&pool)
            .await
            .context("no migrations have been applied")?;
            let Some(latest) = applied.first() else {
                eprintln!("no migrations to revert");
                return Ok(());
            };
            let target = applied.get(1).copied().unwrap_or(0);
            MIGRATOR
                .undo(&pool, target)
                .await
                .context("reverting failed")?;
            eprintln!("reverted migration {latest}");
        }
        Command::User {
            command: UserCommand::Add { email, roles, name },
        } => {
            let pool = connect(&database_url).await?;
            let password = read_password()?;
            let created = accounts::create_user(
                &pool,
                &Actor::Cli,
                NewUser {
                    email,
                    name: name.unwrap_or_default(),
                    password,
                    roles,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.user_message(app::i18n::Lang::En)))?;
            eprintln!(
                "added {} ({})",
                created.user.email,
                created
                    .user
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Command::User {
            command: UserCommand::SetPassword { email },
        } => {
            let pool = connect(&database_url).await?;
            let user = accounts::find_by_email(&pool, &email)
                .await
                .map_err(|_| anyhow::anyhow!("no account with the e-mail address {email}"))?;
            let password = read_password()?;
            accounts::set_password(&pool, &Actor::Cli, user.id, &password)
                .await
                .map_err(|e| anyhow::anyhow!(e.user_message(app::i18n::Lang::En)))?;
            eprintln!("set the password of {}", user.email);
        }
        Command::Demo => {
            let pool = connect(&database_url).await?;
            crate::demo::seed(&pool).await?;
        }
        Command::Audit {
            command: AuditCommand::Verify { head },
        } => {
            // A head that cannot be read is refused before the database is asked anything.
            let anchor = head
                .as_deref()
                .map(str::parse::<audit::Anchor>)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let pool = connect(&database_url).await?;
            verify_audit(&pool, anchor.as_ref()).await?;
        }
        Command::Audit {
            command: AuditCommand::Head,
        } => {
            let pool = connect(&database_url).await?;
            let head = audit::latest(&pool)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?
                .context("the audit log is empty: there is no head to keep yet")?;
            println!("{head}");
        }
        Command::Evidence {
            command: EvidenceCommand::Verify,
        } => {
            let settings = env().settings()?;
            let storage = app::services::storage::Storage::from_settings(
                &settings.storage,
                settings.evidence_max_bytes,
            )
            .map_err(anyhow::Error::msg)?;
            let pool = connect(&database_url).await?;
            let objects = app::services::evidence::all_objects(&pool)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let mut bad = 0usize;
            for o in &objects {
                match storage.rehash(&o.storage_key).await {
                    Ok((sha, size)) if sha == o.sha256 && size as i64 == o.size => {}
                    Ok((sha, size)) => {
                        bad += 1;
                        println!(
                            "evidence {}: MISMATCH stored sha256 {} size {}, recorded sha256 {} size {}",
                            o.id, sha, size, o.sha256, o.size
                        );
                    }
                    Err(object_store::Error::NotFound { .. }) => {
                        bad += 1;
                        println!("evidence {}: MISSING object {}", o.id, o.storage_key);
                    }
                    Err(e) => {
                        bad += 1;
                        println!("evidence {}: UNREADABLE {}: {e}", o.id, o.storage_key);
                    }
                }
            }
            if bad > 0 {
                anyhow::bail!("evidence check failed: {bad} of {} objects", objects.len());
            }
            println!(
                "evidence intact: {} objects ({})",
                objects.len(),
                storage.label
            );
        }
        Command::Token {
            command: TokenCommand::Issue { email, name },
        } => {
            let pool = connect(&database_url).await?;
            let user = accounts::find_by_email(&pool, &email)
                .await
                .map_err(|_| anyhow::anyhow!("no account with email {email}"))?;
            let issued = tokens::issue_for(&pool, &Actor::Cli, user.id, &name)
                .await
                .map_err(|e| anyhow::anyhow!(e.user_message(app::i18n::Lang::En)))?;
            println!("{}", issued.secret);
        }
    }
    Ok(())
}

/// `shipgate audit verify [--head ID:HASH]`: the chain recomputes, and the kept head is
/// still in it with the same hash. Only both together show that history was not rewritten.
async fn verify_audit(pool: &PgPool, anchor: Option<&audit::Anchor>) -> anyhow::Result<()> {
    let rows = match audit::verify(pool)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?
    {
        audit::ChainCheck::Intact { rows } => rows,
        audit::ChainCheck::Broken { first_bad_id } => {
            anyhow::bail!("audit log broken: first bad row is id {first_bad_id}");
        }
    };
    let Some(anchor) = anchor else {
        println!("audit log intact: {rows} rows");
        return Ok(());
    };
    match audit::check_anchor(pool, anchor)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?
    {
        audit::AnchorCheck::Holds => {
            println!(
                "audit log intact: {rows} rows, and head {} is still in the chain",
                anchor.id
            );
            Ok(())
        }
        audit::AnchorCheck::Missing => anyhow::bail!(
            "audit head {} is MISSING: the log has no row {}; it was cut or rebuilt since the head was kept",
            anchor,
            anchor.id
        ),
        audit::AnchorCheck::Differs { stored } => anyhow::bail!(
            "audit head {} DIFFERS: row {} now has hash {stored}; the log was rewritten and re-chained since the head was kept",
            anchor,
            anchor.id
        ),
    }
}

async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await
        .context("cannot connect to the database (DATABASE_URL)")
}

async fn warn_about_pending_migrations(pool: &PgPool) {
    let applied: Result<Vec<i64>, _> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await;
    match applied {
        Ok(applied) => {
            let pending = MIGRATOR
                .iter()
                .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
                .count();
            if pending > 0 {
                tracing::warn!(
                    pending,
                    "database schema is behind; run `shipgate migrate up`"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not check migrations"),
    }
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    Ok(password)
}

/// `shipgate dossier verify FILE`: any changed byte fails.
async fn verify_dossier(file: &std::path::Path) -> anyhow::Result<()> {
    use app::domain::dossier::{differences, verify_export, VerifyProblem};
    use app::services::dossier::sha256_hex;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (id, sha) = match verify_export(&bytes, |b: &[u8]| sha256_hex(b)) {
        Ok(ok) => ok,
        Err(problem) => {
            let why = match problem {
                VerifyProblem::NotJson(e) => format!("not valid JSON ({e})"),
                VerifyProblem::NotADossier(e) => format!("not a Shipgate dossier ({e})"),
                VerifyProblem::HashMismatch { recorded, computed } => format!(
                    "the content was changed: it hashes to {computed}, the seal says {recorded}"
                ),
                VerifyProblem::Reformatted => {
                    "the content matches its seal, but the file was changed (bytes differ from the export)".into()
                }
            };
            anyhow::bail!("CHANGED: {}: {why}", file.display());
        }
    };
    // With a database at hand, the file must also be the dossier that was sealed there: a
    // changed file whose hash was recomputed shows here, field by field.
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let pool = connect(&url).await?;
        match app::services::dossier::stored(&pool, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            None => {
                anyhow::bail!("CHANGED: no dossier is sealed for release {id} in this database")
            }
            Some((stored, stored_sha)) if stored_sha != sha => {
                let file_doc: serde_json::Value =
                    serde_json::from_slice::<serde_json::Value>(&bytes)?["dossier"].clone();
                let fields = differences(&stored, &file_doc);
                anyhow::bail!(
                    "CHANGED: release {id} was sealed as {stored_sha}; the file differs at: {}",
                    fields.join(", ")
                );
            }
            Some(_) => {}
        }
    }
    println!("OK: release {id} dossier unchanged (sha256 {sha})");
    Ok(())
}
