//! Chart geometry for the pages, pure numbers for an SVG `viewBox`, the same on server and
//! browser.
//!
//! The delivery chart (`/delivery`): per month a bar of the releases that ended, stacked by
//! outcome, and a line of the rollback rate (change failure rate) on a 0–100 % scale.
//! The status page's sparklines (`/status`): an endpoint's recent latencies as a polyline.

use crate::domain::archive_model::MonthMetrics;
use crate::domain::release::Phase;

/// Room for the axes' labels around the plot.
const LEFT: f64 = 36.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;
/// Month labels closer than this would overlap; only every so many months gets one.
const MIN_LABEL_GAP: f64 = 44.0;
/// Share of a month's slot its bar takes; the rest is the gap between bars.
const BAR_SHARE: f64 = 0.7;

/// Stacking order, bottom up: what shipped, then what came back, then what never went.
pub const STACK: [Phase; 3] = [Phase::Done, Phase::RolledBack, Phase::NoGo];

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub outcome: Phase,
    pub count: i64,
    pub y: f64,
    pub height: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub month: String,
    pub x: f64,
    pub width: f64,
    /// Bottom up in [`STACK`] order; outcomes without releases are left out.
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    /// The plot area: left, top, right, bottom.
    pub plot: (f64, f64, f64, f64),
    pub bars: Vec<Bar>,
    /// The rollback rate as `<polyline points>`; months without a rate are skipped.
    pub rate_points: String,
    /// The same points, for markers.
    pub rate_dots: Vec<(f64, f64)>,
    /// The top of the releases scale.
    pub y_max: i64,
    /// Left axis: (y, releases).
    pub y_ticks: Vec<(f64, i64)>,
    /// Right axis: (y, percent).
    pub rate_ticks: Vec<(f64, u32)>,
    /// Below the bars: (x of the label's centre, `MM/YY`).
    pub labels: Vec<(f64, String)>,
}

/// A scale from 0 that holds `max` in at most five round steps (1, 2 or 5 × 10ⁿ).
pub fn nice_scale(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut magnitude = 1i64;
    loop {
        for step in [magnitude, 2 * magnitude, 5 * magnitude] {
            let steps = (max + step - 1) / step;
            if steps <= 5 {
                return (steps * step, step);
            }
        }
        magnitude *= 10;
    }
}

/// `2026-11` → `11/26`.
fn short_month(month: &str) -> String {
    match (month.get(2..4), month.get(5..7)) {
        (Some(year), Some(m)) => format!("{m}/{year}"),
        _ => month.to_string(),
    }
}

fn count_of(m: &MonthMetrics, outcome: Phase) -> i64 {
    match outcome {
        Phase::Done => m.done,
        Phase::RolledBack => m.rolled_back,
        Phase::NoGo => m.no_go,
        _ => 0,
    }
}

pub fn chart(months: &[MonthMetrics], width: f64, height: f64) -> Chart {
    let (left, top) = (LEFT, TOP);
    let right = (width - RIGHT).max(left);
    let bottom = (height - BOTTOM).max(top);
    let (plot_w, plot_h) = (right - left, bottom - top);
    let slot = plot_w / months.len().max(1) as f64;
    let (y_max, step) = nice_scale(months.iter().map(|m| m.releases).max().unwrap_or(0));
    let scale = plot_h / y_max as f64;

    let bars = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut base = bottom;
            let segments = STACK
                .into_iter()
                .map(|outcome| (outcome, count_of(m, outcome)))
                .filter(|(_, count)| *count > 0)
                .map(|(outcome, count)| {
                    let height = count as f64 * scale;
                    base -= height;
                    Segment {
                        outcome,
                        count,
                        y: base,
                        height,
                    }
                })
                .collect();
            Bar {
                month: m.month.clone(),
                x: left + i as f64 * slot + slot * (1.0 - BAR_SHARE) / 2.0,
                width: slot * BAR_SHARE,
                segments,
            }
        })
        .collect();

    let rate_y = |pct: f64| bottom - pct.clamp(0.0, 100.0) / 100.0 * plot_h;
    let centre = |i: usize| left + (i as f64 + 0.5) * slot;
    let rate_dots: Vec<(f64, f64)> = months
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.rollback_rate_pct.map(|r| (centre(i), rate_y(r))))
        .collect();
    let rate_points = rate_dots
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");

    // Counted back from the newest month, so the current one always has its label.
    let every = (MIN_LABEL_GAP / slot).ceil().max(1.0) as usize;
    let labels = months
        .iter()
        .enumerate()
        .filter(|(i, _)| (months.len() - 1 - i).is_multiple_of(every))
        .map(|(i, m)| (centre(i), short_month(&m.month)))
        .collect();

    Chart {
        width,
        height,
        plot: (left, top, right, bottom),
        bars,
        rate_points,
        rate_dots,
        y_max,
        y_ticks: (0..=y_max / step)
            .map(|k| (bottom - (k * step) as f64 * scale, k * step))
            .collect(),
        rate_ticks: [0, 50, 100]
            .into_iter()
            .map(|p| (rate_y(f64::from(p)), p))
            .collect(),
        labels,
    }
}

/// The `points` of an SVG polyline drawing `values` into `width`×`height` (gaps skipped,
/// higher values drawn higher; the scale starts at zero).
pub fn sparkline_points(values: &[Option<i32>], width: f64, height: f64) -> String {
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| {
                let x = i as f64 * step;
                let y = height - (v.max(0) as f64 / max) * height;
                format!("{x:.1},{y:.1}")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(key: &str, done: i64, no_go: i64, rolled_back: i64) -> MonthMetrics {
        MonthMetrics::new(key.into(), done, no_go, rolled_back, None, None)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn no_months_draw_an_empty_frame() {
        let c = chart(&[], 600.0, 200.0);
        assert_eq!((c.width, c.height), (600.0, 200.0));
        assert!(c.bars.is_empty() && c.labels.is_empty() && c.rate_dots.is_empty());
        assert_eq!(c.rate_points, "");
        assert_eq!(c.y_max, 1);
        assert_eq!(c.plot, (LEFT, TOP, 600.0 - RIGHT, 200.0 - BOTTOM));
    }

    #[test]
    fn empty_months_have_slots_but_no_bars_or_rates() {
        let months = [
            month("2026-01", 0, 0, 0),
            month("2026-02", 0, 0, 0),
            month("2026-03", 0, 0, 0),
        ];
        let c = chart(&months, 600.0, 200.0);
        assert_eq!(c.bars.len(), 3);
        assert!(c.bars.iter().all(|b| b.segments.is_empty()));
        assert_eq!(c.rate_points, "");
        assert_eq!(c.y_max, 1);
        assert_eq!(c.y_ticks.len(), 2);
        assert_eq!(c.labels.len(), 3);
        assert_eq!(c.labels[2].1, "03/26");
        // The bars sit side by side within the plot.
        assert!(c.bars[0].x > LEFT && c.bars[2].x + c.bars[2].width < 600.0 - RIGHT);
        assert!(c.bars[0].x + c.bars[0].width < c.bars[1].x);
    }

    #[test]
    fn the_busiest_month_fills_the_scale_and_stacks_by_outcome() {
        // 6 done, 2 rolled back, 2 no-go: rollback rate 25 %.
        let months = [month("2026-10", 6, 2, 2), month("2026-11", 5, 0, 0)];
        let c = chart(&months, 400.0, 236.0);
        let (_, top, _, bottom) = c.plot;
        let plot_h = bottom - top;
        assert_eq!(c.y_max, 10);
        let busy = &c.bars[0];
        let order: Vec<Phase> = busy.segments.iter().map(|s| s.outcome).collect();
        assert_eq!(order, STACK.to_vec());
        // Bottom up without gaps, the top at the top of the plot.
        assert!(close(busy.segments[0].y + busy.segments[0].height, bottom));
        for pair in busy.segments.windows(2) {
            assert!(close(pair[1].y + pair[1].height, pair[0].y));
        }
        assert!(close(busy.segments[2].y, top));
        assert!(close(busy.segments[0].height, plot_h * 0.6));
        // Half the releases, half the height; only the outcome that happened.
        let half = &c.bars[1];
        assert_eq!(half.segments.len(), 1);
        assert!(close(half.segments[0].height, plot_h * 0.5));
        // Rates: 25 % for October, 0 % for November (5 done, none rolled back).
        assert_eq!(c.rate_dots.len(), 2);
        assert!(close(c.rate_dots[0].1, bottom - plot_h * 0.25));
        assert!(close(c.rate_dots[1].1, bottom));
        assert_eq!(c.rate_points.split(' ').count(), 2);
        assert_eq!(c.rate_ticks[2], (top, 100));
        assert_eq!(c.y_ticks.last().map(|t| t.1), Some(10));
        assert!(close(c.y_ticks.last().unwrap().0, top));
    }

    #[test]
    fn months_without_a_rate_leave_the_line() {
        // Only no-go: no change failure rate.
        let months = [
            month("2026-01", 1, 0, 1),
            month("2026-02", 0, 3, 0),
            month("2026-03", 1, 0, 0),
        ];
        let c = chart(&months, 600.0, 200.0);
        assert_eq!(c.rate_dots.len(), 2);
        assert!(c.rate_dots[0].0 < c.rate_dots[1].0);
    }

    #[test]
    fn many_months_get_fewer_labels_the_newest_always() {
        let months: Vec<MonthMetrics> = (0..24)
            .map(|i| month(&format!("{}-{:02}", 2025 + i / 12, i % 12 + 1), 1, 0, 0))
            .collect();
        let c = chart(&months, 640.0, 240.0);
        assert!(
            c.labels.len() < 24 && c.labels.len() >= 6,
            "{}",
            c.labels.len()
        );
        assert_eq!(c.labels.last().unwrap().1, "12/26");
        for pair in c.labels.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= MIN_LABEL_GAP);
        }
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_scale(0), (1, 1));
        assert_eq!(nice_scale(3), (3, 1));
        assert_eq!(nice_scale(5), (5, 1));
        assert_eq!(nice_scale(7), (8, 2));
        assert_eq!(nice_scale(10), (10, 2));
        assert_eq!(nice_scale(23), (25, 5));
        assert_eq!(nice_scale(4115), (5000, 1000));
    }

    #[test]
    fn sparkline_scales_from_zero_and_skips_gaps() {
        assert_eq!(
            sparkline_points(&[Some(0), None, Some(100)], 100.0, 20.0),
            "0.0,20.0 100.0,0.0"
        );
        assert_eq!(sparkline_points(&[], 100.0, 20.0), "");
    }
}
