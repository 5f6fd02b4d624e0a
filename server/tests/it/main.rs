//! The server's integration tests, one test binary (`cargo test -p server --test it`):
//! each feature is a module, all share the harness in `common`. Run one feature with
//! `cargo test -p server --test it probes::` (the filter matches the module path).

mod common;

mod archive;
mod audit;
mod auth;
mod calendar;
mod cli;
mod delivery;
mod evidence;
mod golive;
mod notify;
mod preferences;
mod probes;
mod readiness;
mod releases;
mod sessions;
mod sso;
mod trust;
