//! The release archive: ended releases found by words, outcome, environment, Berlin
//! calendar days and people, newest first. Reads `archive_entries`, which a release's
//! sealed dossier fills.

use super::ServiceError;
use crate::domain::archive_model::{
    ArchiveEntry, ArchivePage, ArchiveQuery, ARCHIVE_COUNT_CAP, ARCHIVE_PAGE_SIZE,
};
use crate::domain::release::Phase;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use sqlx::{PgPool, Postgres, QueryBuilder};

/// The deepest page: counting stops at the cap, so the pages behind it cannot be reached.
pub const MAX_PAGE: u32 = ARCHIVE_COUNT_CAP as u32 / ARCHIVE_PAGE_SIZE;

/// Words of a search taken at most; more only make the query slower, not better.
const MAX_WORDS: usize = 8;
/// Postgres silently ignores words longer than 2047 bytes, which would drop a term
/// without a word; no real title, version or commit comes near this.
const MAX_WORD_CHARS: usize = 100;

/// A search text as a Postgres `tsquery` for the `simple` configuration: every word a
/// prefix, all words required. `None` when no word is left.
///
/// Each word goes to `to_tsquery` whole, so Postgres' parser splits it exactly as it split
/// the archived text (`BUG-7` into `bug` and `-7`, `foo_bar` into `foo` and `bar`, while
/// `v2.4.0-rc1` stays one token). A word with hyphens also matches its hyphen-separated
/// parts found anywhere, so `bar-baz` finds `foo-bar-baz` and `checkout-service` finds
/// "checkout service".
pub fn tsquery(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|word| {
            word.to_lowercase()
                .chars()
                .filter(|&c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .take(MAX_WORD_CHARS)
                .collect::<String>()
        })
        // A word of punctuation only yields no lexeme; Postgres would drop it with a notice.
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .take(MAX_WORDS)
        .map(|word| term(&word))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

fn prefix(word: &str) -> String {
    format!("'{}':*", word.replace('\'', "''"))
}

fn term(word: &str) -> String {
    let parts: Vec<&str> = word
        .split('-')
        .filter(|p| p.chars().any(char::is_alphanumeric))
        .collect();
    if parts.len() < 2 {
        return prefix(word);
    }
    let each = parts
        .iter()
        .map(|p| prefix(p))
        .collect::<Vec<_>>()
        .join(" & ");
    format!("({} | {each})", prefix(word))
}

/// The start of a calendar day in Berlin, in UTC.
pub fn berlin_day_start(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    // Berlin changes its clocks at 02:00/03:00, so midnight always exists; the fallback
    // only keeps this total.
    Berlin
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

fn present(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// A query checked and turned into what the SQL compares with.
struct Filters {
    tsquery: Option<String>,
    outcome: Option<Phase>,
    environment: Option<String>,
    ended_from: Option<DateTime<Utc>>,
    ended_before: Option<DateTime<Utc>>,
    person: Option<String>,
}

impl Filters {
    fn of(q: &ArchiveQuery) -> Result<Filters, ServiceError> {
        let outcome = match present(&q.outcome) {
            None => None,
            Some(o) => Some(Phase::parse(&o).filter(|p| p.is_final()).ok_or_else(|| {
                ServiceError::invalid(
                    "outcome",
                    "The outcome is done, no_go or rolled_back.",
                    "Das Ergebnis ist done, no_go oder rolled_back.",
                )
            })?),
        };
        if let (Some(from), Some(to)) = (q.from, q.to) {
            if from > to {
                return Err(ServiceError::invalid(
                    "to",
                    "The end day must not be before the start day.",
                    "Der letzte Tag darf nicht vor dem ersten liegen.",
                ));
            }
        }
        Ok(Filters {
            tsquery: present(&q.q).as_deref().and_then(tsquery),
            outcome,
            environment: present(&q.environment),
            ended_from: q.from.map(berlin_day_start),
            // `to` includes its whole day: everything before the next day starts.
            ended_before: q.to.and_then(|d| d.succ_opt()).map(berlin_day_start),
            person: present(&q.person).map(|p| p.to_lowercase()),
        })
    }

    /// Appends the WHERE clause; every value is a bind parameter.
    fn push_where(&self, b: &mut QueryBuilder<'_, Postgres>) {
        b.push(" WHERE TRUE");
        if let Some(t) = &self.tsquery {
            b.push(" AND search @@ to_tsquery('simple', ")
                .push_bind(t.clone())
                .push(")");
        }
        if let Some(o) = self.outcome {
            b.push(" AND outcome = ").push_bind(o.as_str());
        }
        if let Some(e) = &self.environment {
            // Matches the expression index on lower(environment).
            b.push(" AND lower(environment) = lower(")
                .push_bind(e.clone())
                .push(")");
        }
        if let Some(t) = self.ended_from {
            b.push(" AND ended_at >= ").push_bind(t);
        }
        if let Some(t) = self.ended_before {
            b.push(" AND ended_at < ").push_bind(t);
        }
        if let Some(p) = &self.person {
            b.push(" AND people @> ARRAY[")
                .push_bind(p.clone())
                .push("]::text[]");
        }
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    release_id: i64,
    outcome: String,
    title: String,
    version: String,
    commit_sha: Option<String>,
    environment: String,
    window_start: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    people: Vec<String>,
}

impl From<EntryRow> for ArchiveEntry {
    fn from(r: EntryRow) -> Self {
        ArchiveEntry {
            release_id: r.release_id,
            outcome: Phase::parse(&r.outcome).unwrap_or(Phase::Done),
            title: r.title,
            version: r.version,
            commit_sha: r.commit_sha,
            environment: r.environment,
            window_start: r.window_start,
            ended_at: r.ended_at,
            people: r.people,
        }
    }
}

const COLUMNS: &str =
    "release_id, outcome, title, version, commit_sha, environment, window_start, ended_at, people";

/// Whether to collect every match first and then sort, rather than walk the archive
/// newest first until a page of matches is found. Walking costs about
/// (offset + page) × rows / matches row visits, collecting about twice the matches; the
/// planner cannot tell the two apart for a rare word (it has no statistics for prefixes)
/// and would walk all of the archive to find a handful.
fn collect_first(matches: i64, capped: bool, offset: i64, rows: i64) -> bool {
    if capped {
        return false;
    }
    let walked = (offset + i64::from(ARCHIVE_PAGE_SIZE)) as f64 * rows.max(matches) as f64;
    2.0 * (matches as f64) * (matches as f64) < walked
}

/// One page of the archive, newest first, and how many releases match.
pub async fn search(pool: &PgPool, q: &ArchiveQuery) -> Result<ArchivePage, ServiceError> {
    let filters = Filters::of(q)?;
    let page = q.page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(ServiceError::invalid(
            "page",
            "The page is a number from 1 to 400.",
            "Die Seite ist eine Zahl von 1 bis 400.",
        ));
    }
    let offset = i64::from((page - 1) * ARCHIVE_PAGE_SIZE);

    // Counting first, capped, also tells which way the page is found fastest. The
    // statements are not kept prepared: a generic plan, made without the values, would
    // pick one way for every search.
    let mut count = QueryBuilder::<Postgres>::new(
        "SELECT count(*),
                coalesce((SELECT reltuples::bigint FROM pg_class
                          WHERE oid = 'archive_entries'::regclass), -1)
         FROM (SELECT 1 FROM archive_entries",
    );
    filters.push_where(&mut count);
    count
        .push(" LIMIT ")
        .push_bind(ARCHIVE_COUNT_CAP + 1)
        .push(") s");
    let (matches, rows): (i64, i64) = count
        .build_query_as()
        .persistent(false)
        .fetch_one(pool)
        .await?;
    let capped = matches > ARCHIVE_COUNT_CAP;

    let entries = if matches == 0 || (!capped && offset >= matches) {
        vec![]
    } else {
        let mut select = if collect_first(matches, capped, offset, rows) {
            let mut b = QueryBuilder::<Postgres>::new(format!(
                "WITH matches AS MATERIALIZED (SELECT {COLUMNS} FROM archive_entries"
            ));
            filters.push_where(&mut b);
            b.push(format!(") SELECT {COLUMNS} FROM matches"));
            b
        } else {
            let mut b =
                QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM archive_entries"));
            filters.push_where(&mut b);
            b
        };
        select
            .push(" ORDER BY ended_at DESC, release_id DESC LIMIT ")
            .push_bind(i64::from(ARCHIVE_PAGE_SIZE))
            .push(" OFFSET ")
            .push_bind(offset);
        select
            .build_query_as::<EntryRow>()
            .persistent(false)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(ArchiveEntry::from)
            .collect()
    };
    Ok(ArchivePage {
        entries,
        total: matches.min(ARCHIVE_COUNT_CAP),
        total_capped: capped,
        page,
        per_page: ARCHIVE_PAGE_SIZE,
    })
}

/// What the search form offers to pick from: environments (registered or found in the
/// archive, lowercase as the filter ignores case) and the accounts' emails.
pub async fn choices(pool: &PgPool) -> Result<(Vec<String>, Vec<String>), ServiceError> {
    // Distinct archive environments by hopping through the lower(environment) index, one
    // probe per environment, instead of reading the whole archive.
    let environments = sqlx::query_scalar!(
        r#"WITH RECURSIVE envs AS (
               (SELECT lower(environment) AS env, 1 AS n FROM archive_entries
                ORDER BY lower(environment) LIMIT 1)
               UNION ALL
               SELECT (SELECT lower(a.environment) FROM archive_entries a
                       WHERE lower(a.environment) > envs.env
                       ORDER BY lower(a.environment) LIMIT 1),
                      envs.n + 1
               FROM envs WHERE envs.env IS NOT NULL AND envs.n < 200
           )
           SELECT env AS "env!" FROM envs WHERE env IS NOT NULL
           UNION
           SELECT lower(name) FROM environments
           ORDER BY 1 LIMIT 200"#
    )
    .fetch_all(pool)
    .await?;
    let people = sqlx::query_scalar!("SELECT email FROM users ORDER BY email LIMIT 500")
        .fetch_all(pool)
        .await?;
    Ok((environments, people))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_required_prefixes() {
        assert_eq!(tsquery("kerberos").as_deref(), Some("'kerberos':*"));
        assert_eq!(
            tsquery("  Checkout   HOTFIX ").as_deref(),
            Some("'checkout':* & 'hotfix':*")
        );
        assert_eq!(tsquery("v2.4").as_deref(), Some("'v2.4':*"));
        assert_eq!(tsquery("abc1234").as_deref(), Some("'abc1234':*"));
        assert_eq!(tsquery("foo_bar").as_deref(), Some("'foo_bar':*"));
        assert_eq!(tsquery("Lösung").as_deref(), Some("'lösung':*"));
    }

    #[test]
    fn hyphenated_words_also_match_their_parts() {
        assert_eq!(
            tsquery("BUG-7").as_deref(),
            Some("('bug-7':* | 'bug':* & '7':*)")
        );
        assert_eq!(
            tsquery("v2.4.0-rc1").as_deref(),
            Some("('v2.4.0-rc1':* | 'v2.4.0':* & 'rc1':*)")
        );
        // A dangling hyphen leaves one part: nothing to split.
        assert_eq!(tsquery("bug-").as_deref(), Some("'bug-':*"));
        assert_eq!(tsquery("-7").as_deref(), Some("'-7':*"));
    }

    #[test]
    fn everything_else_is_dropped() {
        assert_eq!(
            tsquery("it's (x) <-> y:* | !z & \\w").as_deref(),
            Some("'its':* & 'x':* & 'y':* & 'z':* & 'w':*")
        );
        assert_eq!(tsquery("a@b.de").as_deref(), Some("'ab.de':*"));
        assert_eq!(tsquery(""), None);
        assert_eq!(tsquery("   "), None);
        assert_eq!(tsquery("''' :* & | ! ( )"), None);
        assert_eq!(tsquery("... --- ___"), None);
    }

    #[test]
    fn at_most_eight_words_of_bounded_length() {
        let q = tsquery("a b c d e f g h i j").unwrap();
        assert_eq!(q.matches(" & ").count(), 7);
        assert!(q.ends_with("'h':*"));
        let long = "x".repeat(500);
        assert_eq!(tsquery(&long).unwrap().len(), MAX_WORD_CHARS + 4);
        // Dropped words do not count against the eight.
        let q = tsquery("! ? a b c d e f g h").unwrap();
        assert!(q.starts_with("'a':*") && q.ends_with("'h':*"));
    }

    #[test]
    fn quotes_would_be_doubled() {
        assert_eq!(prefix("o'neil"), "'o''neil':*");
    }

    #[test]
    fn berlin_days_start_at_local_midnight() {
        let winter = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(
            berlin_day_start(winter).to_rfc3339(),
            "2026-01-14T23:00:00+00:00"
        );
        let summer = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            berlin_day_start(summer).to_rfc3339(),
            "2026-06-30T22:00:00+00:00"
        );
        // The day the clocks spring forward still starts at midnight, an hour ahead of UTC.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(
            berlin_day_start(spring).to_rfc3339(),
            "2026-03-28T23:00:00+00:00"
        );
    }

    #[test]
    fn rare_matches_are_collected_common_ones_walked() {
        // 20 matches in 100k rows: walking would visit ~125k rows.
        assert!(collect_first(20, false, 0, 100_000));
        // Every row matches: the first 25 newest are the page.
        assert!(!collect_first(10_000, true, 0, 100_000));
        assert!(!collect_first(5_000, false, 0, 100_000));
        // A late page of a mid-sized result is found faster by collecting.
        assert!(collect_first(2_000, false, 1_975, 100_000));
        // An unanalysed table (no row estimate) still decides by the matches.
        assert!(collect_first(10, false, 0, -1));
    }

    #[test]
    fn filters_check_outcome_and_days() {
        let q = |f: fn(&mut ArchiveQuery)| {
            let mut q = ArchiveQuery::default();
            f(&mut q);
            Filters::of(&q)
        };
        assert!(q(|q| q.outcome = Some("rolled_back".into())).is_ok());
        assert!(q(|q| q.outcome = Some(" ".into()))
            .unwrap()
            .outcome
            .is_none());
        for bad in ["draft", "go_live", "DONE", "nonsense"] {
            let err = Filters::of(&ArchiveQuery {
                outcome: Some(bad.into()),
                ..Default::default()
            });
            assert!(
                matches!(
                    err,
                    Err(ServiceError::Invalid {
                        field: "outcome",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let day = |d| NaiveDate::from_ymd_opt(2026, 4, d);
        let err = Filters::of(&ArchiveQuery {
            from: day(2),
            to: day(1),
            ..Default::default()
        });
        assert!(matches!(
            err,
            Err(ServiceError::Invalid { field: "to", .. })
        ));
        let f = Filters::of(&ArchiveQuery {
            from: day(1),
            to: day(1),
            q: Some("  ".into()),
            person: Some(" Anna@Example.ORG ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(f.tsquery, None);
        assert_eq!(f.person.as_deref(), Some("anna@example.org"));
        // One Berlin day (CEST): 22:00 UTC the evening before to 22:00 UTC that evening.
        assert_eq!(
            f.ended_from.unwrap().to_rfc3339(),
            "2026-03-31T22:00:00+00:00"
        );
        assert_eq!(
            f.ended_before.unwrap().to_rfc3339(),
            "2026-04-01T22:00:00+00:00"
        );
    }
}
