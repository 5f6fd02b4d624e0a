//! One place that sets up logging. `LOG_LEVEL` decides for every target; `RUST_LOG` is ignored.

use crate::config::{LogFormat, LogSettings};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt;

pub fn init(settings: &LogSettings) {
    use std::io::IsTerminal;
    let builder = fmt()
        .with_max_level(LevelFilter::from_level(settings.level))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a collector.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true);
    let result = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
