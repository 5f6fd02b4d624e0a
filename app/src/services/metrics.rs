//! Release metrics per Europe/Berlin calendar month, from the archive: how many releases
//! ended and how, the change failure rate, lead time from the staging gate to done and
//! time to restore after a rollback.

use super::archive::berlin_day_start;
use super::ServiceError;
use crate::domain::archive_model::MonthMetrics;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use sqlx::PgPool;

/// The longest look back the release metrics view offers.
pub const MAX_MONTHS: u32 = 36;

/// The last `months` Berlin calendar months up to and including the one `now` falls in,
/// oldest first, as (year, month).
pub fn month_range(now: DateTime<Utc>, months: u32) -> Vec<(i32, u32)> {
    let local = now.with_timezone(&Berlin);
    let current = local.year() * 12 + local.month0() as i32;
    (0..months as i32)
        .rev()
        .map(|back| {
            let m = current - back;
            (m.div_euclid(12), m.rem_euclid(12) as u32 + 1)
        })
        .collect()
}

fn month_start(year: i32, month: u32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, month, 1).map(berlin_day_start)
}

fn month_key(year: i32, month: u32) -> String {
    format!("{year:04}-{month:02}")
}

/// One row per month, empty months included, oldest first.
pub async fn monthly(
    pool: &PgPool,
    months: u32,
    now: DateTime<Utc>,
) -> Result<Vec<MonthMetrics>, ServiceError> {
    if !(1..=MAX_MONTHS).contains(&months) {
        return Err(ServiceError::invalid(
            "months",
            "Choose 1 to 36 months.",
            "Bitte 1 bis 36 Monate wählen.",
        ));
    }
    let range = month_range(now, months);
    let (first, last) = (range[0], range[range.len() - 1]);
    let next = if last.1 == 12 {
        (last.0 + 1, 1)
    } else {
        (last.0, last.1 + 1)
    };
    let (Some(from), Some(until)) = (month_start(first.0, first.1), month_start(next.0, next.1))
    else {
        return Err(ServiceError::Internal(format!(
            "no calendar month {first:?}..{next:?}"
        )));
    };
    let rows = sqlx::query!(
        r#"SELECT to_char(date_trunc('month', ended_at AT TIME ZONE 'Europe/Berlin'), 'YYYY-MM') AS "month!",
                  count(*) FILTER (WHERE outcome = 'done') AS "done!",
                  count(*) FILTER (WHERE outcome = 'no_go') AS "no_go!",
                  count(*) FILTER (WHERE outcome = 'rolled_back') AS "rolled_back!",
                  percentile_cont(0.5) WITHIN GROUP
                      (ORDER BY extract(epoch FROM ended_at - staging_started_at)::float8 / 3600)
                      FILTER (WHERE outcome = 'done' AND staging_started_at IS NOT NULL)
                      AS "lead_time_hours?",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY restore_seconds / 60)
                      FILTER (WHERE outcome = 'rolled_back' AND restore_seconds IS NOT NULL)
                      AS "time_to_restore_minutes?"
           FROM archive_entries
           WHERE ended_at >= $1 AND ended_at < $2
           GROUP BY 1"#,
        from as _,
        until as _
    )
    .fetch_all(pool)
    .await?;
    let mut by_month: std::collections::HashMap<String, MonthMetrics> = rows
        .into_iter()
        .map(|r| {
            let m = MonthMetrics::new(
                r.month,
                r.done,
                r.no_go,
                r.rolled_back,
                r.lead_time_hours,
                r.time_to_restore_minutes,
            );
            (m.month.clone(), m)
        })
        .collect();
    Ok(range
        .into_iter()
        .map(|(y, m)| {
            let key = month_key(y, m);
            by_month
                .remove(&key)
                .unwrap_or_else(|| MonthMetrics::new(key, 0, 0, 0, None, None))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn months_count_back_across_the_year() {
        assert_eq!(
            month_range(at("2026-02-10T12:00:00Z"), 4),
            vec![(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
        );
        assert_eq!(month_range(at("2026-02-10T12:00:00Z"), 1), vec![(2026, 2)]);
        assert_eq!(month_range(at("2026-01-10T12:00:00Z"), 13)[0], (2025, 1));
        assert_eq!(month_range(at("2026-01-10T12:00:00Z"), 36).len(), 36);
    }

    #[test]
    fn the_current_month_is_berlins() {
        // 23:30 UTC on 31 January is already February in Berlin.
        assert_eq!(
            month_range(at("2026-01-31T23:30:00Z"), 2),
            vec![(2026, 1), (2026, 2)]
        );
        // And 22:30 UTC on 31 July already August (summer time).
        assert_eq!(month_range(at("2026-07-31T22:30:00Z"), 1), vec![(2026, 8)]);
    }

    #[test]
    fn months_start_at_berlin_midnight() {
        assert_eq!(
            month_start(2026, 1).unwrap().to_rfc3339(),
            "2025-12-31T23:00:00+00:00"
        );
        assert_eq!(
            month_start(2026, 8).unwrap().to_rfc3339(),
            "2026-07-31T22:00:00+00:00"
        );
        assert_eq!(month_key(2026, 3), "2026-03");
    }
}
