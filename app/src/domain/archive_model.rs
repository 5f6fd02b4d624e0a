//! The release archive and delivery metrics as the API and the UI see them. Plain data,
//! shared by server and browser.

use super::release::Phase;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A search of the archive. Every field is optional; empty strings count as absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArchiveQuery {
    /// Full text over title, version, commit, notes and known issues (prefix per word).
    pub q: Option<String>,
    /// `done`, `no_go` or `rolled_back`.
    pub outcome: Option<String>,
    pub environment: Option<String>,
    /// Ended on or after this day (Europe/Berlin).
    pub from: Option<NaiveDate>,
    /// Ended on or before this day (Europe/Berlin).
    pub to: Option<NaiveDate>,
    /// Email of the release captain, the product owner or a signer.
    pub person: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
}

/// Results per archive page.
pub const ARCHIVE_PAGE_SIZE: u32 = 25;
/// Counting stops here: a broad search says "10000+" instead of counting everything.
pub const ARCHIVE_COUNT_CAP: i64 = 10_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    pub release_id: i64,
    pub outcome: Phase,
    pub title: String,
    pub version: String,
    pub commit_sha: Option<String>,
    pub environment: String,
    pub window_start: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub people: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchivePage {
    pub entries: Vec<ArchiveEntry>,
    /// Matches, counted up to [`ARCHIVE_COUNT_CAP`] (`total_capped` says it stopped there).
    pub total: i64,
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
}

/// One month of delivery metrics (months in Europe/Berlin).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthMetrics {
    /// `2026-11`
    pub month: String,
    /// Releases that ended this month.
    pub releases: i64,
    pub done: i64,
    pub no_go: i64,
    pub rolled_back: i64,
    /// no_go / releases, in percent.
    pub no_go_rate_pct: Option<f64>,
    /// rolled_back / (done + rolled_back): the change failure rate, in percent.
    pub rollback_rate_pct: Option<f64>,
    /// Median hours from the staging gate's start to done.
    pub median_lead_time_hours: Option<f64>,
    /// Median minutes from trouble to the rollback.
    pub median_time_to_restore_minutes: Option<f64>,
}

impl MonthMetrics {
    /// A month's figures from its counts and medians. A rate is `None` when nothing
    /// counts toward it (no releases; nothing went live).
    pub fn new(
        month: String,
        done: i64,
        no_go: i64,
        rolled_back: i64,
        median_lead_time_hours: Option<f64>,
        median_time_to_restore_minutes: Option<f64>,
    ) -> Self {
        let pct = |part: i64, whole: i64| (whole > 0).then(|| part as f64 * 100.0 / whole as f64);
        let releases = done + no_go + rolled_back;
        MonthMetrics {
            month,
            releases,
            done,
            no_go,
            rolled_back,
            no_go_rate_pct: pct(no_go, releases),
            rollback_rate_pct: pct(rolled_back, done + rolled_back),
            median_lead_time_hours,
            median_time_to_restore_minutes,
        }
    }
}

/// A search parameter in the URL that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub field: &'static str,
    pub en: &'static str,
    pub de: &'static str,
}

/// The names of [`ArchiveQuery`]'s URL parameters, in the order links spell them.
pub const ARCHIVE_PARAMS: [&str; 7] = [
    "q",
    "outcome",
    "environment",
    "from",
    "to",
    "person",
    "page",
];

impl ArchiveQuery {
    /// From URL parameters (the search form's GET, the API's query string): values
    /// trimmed, empty ones absent, days as `YYYY-MM-DD`.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Result<ArchiveQuery, ParamError> {
        let text = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let day = |field: &'static str| match text(field) {
            None => Ok(None),
            Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ParamError {
                    field,
                    en: "Enter the day as YYYY-MM-DD.",
                    de: "Bitte den Tag als JJJJ-MM-TT angeben.",
                }),
        };
        let page = match text("page") {
            None => None,
            Some(v) => Some(v.parse::<u32>().map_err(|_| ParamError {
                field: "page",
                en: "The page is a whole number.",
                de: "Die Seite ist eine ganze Zahl.",
            })?),
        };
        Ok(ArchiveQuery {
            q: text("q"),
            outcome: text("outcome"),
            environment: text("environment"),
            from: day("from")?,
            to: day("to")?,
            person: text("person"),
            page,
        })
    }

    /// The parameters that are set, as `from_params` reads them back.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let values = [
            self.q.clone(),
            self.outcome.clone(),
            self.environment.clone(),
            self.from.map(|d| d.format("%Y-%m-%d").to_string()),
            self.to.map(|d| d.format("%Y-%m-%d").to_string()),
            self.person.clone(),
            self.page.map(|p| p.to_string()),
        ];
        ARCHIVE_PARAMS
            .into_iter()
            .zip(values)
            .filter_map(|(k, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (k, v)))
            .collect()
    }

    /// The URL query string (without `?`), percent-encoded.
    pub fn query_string(&self) -> String {
        self.params()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The same search on another page; page 1 is left out of links.
    pub fn with_page(&self, page: u32) -> ArchiveQuery {
        ArchiveQuery {
            page: (page > 1).then_some(page),
            ..self.clone()
        }
    }
}

/// Everything but unreserved characters escaped, so a value survives any URL position.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<ArchiveQuery, ParamError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ArchiveQuery::from_params(|k| map.get(k).cloned())
    }

    #[test]
    fn empty_values_are_absent() {
        let q = parse(&[
            ("q", "  "),
            ("outcome", ""),
            ("from", ""),
            ("to", " "),
            ("page", ""),
        ])
        .unwrap();
        assert_eq!(q, ArchiveQuery::default());
        assert_eq!(q.query_string(), "");
    }

    #[test]
    fn values_are_read_and_written_back() {
        let q = parse(&[
            ("q", " Checkout hotfix "),
            ("outcome", "rolled_back"),
            ("environment", "prod-eu"),
            ("from", "2026-04-01"),
            ("to", "2026-04-30"),
            ("person", "anna@example.org"),
            ("page", "3"),
            ("other", "ignored"),
        ])
        .unwrap();
        assert_eq!(q.q.as_deref(), Some("Checkout hotfix"));
        assert_eq!(q.from, NaiveDate::from_ymd_opt(2026, 4, 1));
        assert_eq!(q.page, Some(3));
        assert_eq!(
            q.query_string(),
            "q=Checkout%20hotfix&outcome=rolled_back&environment=prod-eu&from=2026-04-01\
             &to=2026-04-30&person=anna%40example.org&page=3"
        );
        let pairs: Vec<(String, String)> = q
            .params()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let again = ArchiveQuery::from_params(|k| {
            pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        });
        assert_eq!(again, Ok(q.clone()));
        assert_eq!(q.with_page(1).page, None);
        assert_eq!(q.with_page(4).page, Some(4));
        assert_eq!(q.with_page(4).q, q.q);
    }

    #[test]
    fn unreadable_values_name_their_field() {
        assert_eq!(parse(&[("from", "01.04.2026")]).unwrap_err().field, "from");
        assert_eq!(parse(&[("to", "2026-02-30")]).unwrap_err().field, "to");
        assert_eq!(parse(&[("page", "two")]).unwrap_err().field, "page");
        assert_eq!(parse(&[("page", "-1")]).unwrap_err().field, "page");
    }

    #[test]
    fn rates_need_something_to_count() {
        let m = MonthMetrics::new("2026-11".into(), 5, 2, 3, Some(25.0), Some(20.0));
        assert_eq!(m.releases, 10);
        assert_eq!(m.no_go_rate_pct, Some(20.0));
        assert_eq!(m.rollback_rate_pct, Some(37.5));
        let only_no_go = MonthMetrics::new("2026-11".into(), 0, 4, 0, None, None);
        assert_eq!(only_no_go.no_go_rate_pct, Some(100.0));
        assert_eq!(only_no_go.rollback_rate_pct, None);
        let empty = MonthMetrics::new("2026-11".into(), 0, 0, 0, None, None);
        assert_eq!(
            (empty.no_go_rate_pct, empty.rollback_rate_pct),
            (None, None)
        );
    }
}
