//! The `shipgate` server: configuration, start-up, REST API, plain-form endpoints, CLI.

pub mod api;
pub mod caching;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dossier_markdown;
pub mod health;
pub mod middleware;
pub mod notify;
pub mod prober;
pub mod security;
pub mod session_cache;
pub mod sso;
pub mod startup;
pub mod telemetry;
pub mod web;

/// Every schema change, each with its down migration.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
