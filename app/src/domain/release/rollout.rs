//! How a release goes out: blue/green or canary, the canary's stages, and the environment
//! variables the target has to have.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    BlueGreen,
    Canary,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::BlueGreen => "blue_green",
            Strategy::Canary => "canary",
        }
    }
    pub fn parse(s: &str) -> Option<Strategy> {
        match s {
            "blue_green" => Some(Strategy::BlueGreen),
            "canary" => Some(Strategy::Canary),
            _ => None,
        }
    }
}

/// The variables the procedure requires for the target environment (section 1,
/// "Freigabe-Check"); a release starts with these and may change them.
pub const DEFAULT_REQUIRED_ENV_VARS: [&str; 8] = [
    "MONGODB_URI",
    "AUTH_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "FILE_STORAGE_MODE",
    "AWS_REGION",
    "LOG_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// The spec's canary: 10 % → 50 % → 100 %, holding 30 minutes at each stage.
pub const DEFAULT_CANARY_STAGES: [i32; 3] = [10, 50, 100];
pub const DEFAULT_CANARY_HOLD_MINUTES: i32 = 30;

/// Canary stages must rise strictly and end at 100 %.
pub fn check_canary_stages(stages: &[i32]) -> bool {
    !stages.is_empty()
        && stages.windows(2).all(|w| w[0] < w[1])
        && stages.first().is_some_and(|s| *s > 0)
        && stages.last() == Some(&100)
}
