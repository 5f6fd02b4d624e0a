//! The release domain: pure rules shared by the server and the browser.
//! No I/O and no clock reads here; callers pass `now` in.

pub mod account;
pub mod archive_model;
pub mod dossier;
pub mod evidence;
pub mod golive;
pub mod ics;
pub mod logs;
pub mod monitoring;
pub mod monitoring_model;
pub mod notify;
pub mod release;
pub mod release_model;
pub mod sso;
pub mod templates;
pub mod time;
