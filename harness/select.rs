//! `select`: from the latest results, the models on the Pareto front of quality, cost and speed
//! that meet the user's constraints, and one recommended pick with the reason.
//!
//! The pick is the best-scoring model on the front, unless cheaper front models are
//! statistically tied with it — a paired sign-flip test on the items both answered finds no
//! difference at α = 0.05 — then the cheapest of those, since the data cannot tell their quality
//! apart. Only models whose speed and cost were measured under the same conditions (machine,
//! hardware profile, dtype, workers, backend) as most candidates are weighed against each other;
//! the others are listed as excluded, with the difference.

use serde::Serialize;

use crate::leaderboard::{Leaderboard, ModelRow};
use crate::metrics::paired::ALPHA;
use crate::metrics::Estimate;
use crate::store::SpeedConditions;

/// Which price a model is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriceBasis {
    /// Self-hosted blended USD per 1M tokens on the run's hardware profile.
    SelfHosted,
    /// The lowest public provider price (blended).
    Provider,
}

/// What the user needs.
#[derive(Debug, Clone, Serialize)]
pub struct Criteria {
    /// Judge quality by this suite's score (default: the quality index).
    pub suite: Option<String>,
    /// Highest acceptable blended USD per 1M tokens.
    pub max_usd_per_mtok: Option<f64>,
    /// Lowest acceptable median output tokens per second.
    pub min_output_tok_s: Option<f64>,
    /// Which price to use.
    pub price: PriceBasis,
}

/// One model as `select` sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Model id.
    pub model: String,
    /// Display name.
    pub name: String,
    /// Score in [0, 100] with its interval.
    pub score: Estimate,
    /// Blended USD per 1M tokens.
    pub usd_per_mtok: Option<f64>,
    /// Median output tokens/s.
    pub output_tok_s: Option<f64>,
    /// Run the speed and cost come from.
    pub run_id: String,
    /// p-value of the paired test against the best model (set for tie candidates).
    pub paired_p_value: Option<f64>,
}

/// `select`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    /// What was asked.
    pub criteria: Criteria,
    /// Models meeting the constraints that no other such model beats on quality, cost and
    /// speed at once; best score first.
    pub front: Vec<Candidate>,
    /// Models meeting the constraints but dominated, with the model that dominates them.
    pub dominated: Vec<(Candidate, String)>,
    /// Models left out, with why.
    pub excluded: Vec<(String, String)>,
    /// The pick.
    pub recommended: Option<String>,
    /// Why.
    pub reason: String,
}

fn candidate(row: &ModelRow, criteria: &Criteria) -> Result<Candidate, String> {
    let score = match &criteria.suite {
        Some(suite) => row
            .suites
            .get(suite)
            .map(|s| s.scaled(100.0))
            .ok_or_else(|| format!("no comparable {suite} score ({})", row.notes.join("; ")))?,
        None => row
            .quality
            .clone()
            .ok_or_else(|| format!("no comparable quality index ({})", row.notes.join("; ")))?,
    };
    Ok(Candidate {
        model: row.id.clone(),
        name: row.display_name.clone(),
        score,
        usd_per_mtok: match criteria.price {
            PriceBasis::SelfHosted => row.self_hosted.map(|c| c.blended),
            PriceBasis::Provider => row.provider.as_ref().map(|p| p.lowest),
        },
        output_tok_s: row.output_tokens_per_second,
        run_id: row.run_id.clone(),
        paired_p_value: None,
    })
}

fn constraint_failure(c: &Candidate, criteria: &Criteria) -> Option<String> {
    if let Some(max) = criteria.max_usd_per_mtok {
        match c.usd_per_mtok {
            None => {
                return Some("no price known (run with --hardware, or use --price provider)".into())
            }
            Some(usd) if usd > max => {
                return Some(format!("costs ${usd:.4} per 1M tokens, above ${max}"))
            }
            _ => {}
        }
    }
    if let Some(min) = criteria.min_output_tok_s {
        match c.output_tok_s {
            None => return Some("no output speed measured".into()),
            Some(speed) if speed < min => {
                return Some(format!("outputs {speed:.1} tok/s, below {min}"))
            }
            _ => {}
        }
    }
    None
}

/// `a` is at least as good as `b` on score, price and speed, and better on one.
fn dominates(a: &Candidate, b: &Candidate) -> bool {
    let cheap = |c: &Candidate| c.usd_per_mtok.unwrap_or(f64::INFINITY);
    let fast = |c: &Candidate| c.output_tok_s.unwrap_or(0.0);
    let no_worse = a.score.value >= b.score.value && cheap(a) <= cheap(b) && fast(a) >= fast(b);
    let better = a.score.value > b.score.value || cheap(a) < cheap(b) || fast(a) > fast(b);
    no_worse && better
}

/// Applies `criteria` to `board`.
pub fn select(board: &Leaderboard, criteria: &Criteria) -> Selection {
    let mut excluded = Vec::new();
    let mut eligible = Vec::new();
    let conditions = common_speed_conditions(board);
    for row in &board.rows {
        if let Some(difference) = conditions
            .as_ref()
            .and_then(|common| row.speed_conditions.difference(common))
        {
            excluded.push((
                row.id.clone(),
                format!(
                    "speed and cost measured under other conditions than the rest ({difference})"
                ),
            ));
            continue;
        }
        match candidate(row, criteria) {
            Err(why) => excluded.push((row.id.clone(), why)),
            Ok(c) => match constraint_failure(&c, criteria) {
                Some(why) => excluded.push((row.id.clone(), why)),
                None => eligible.push(c),
            },
        }
    }
    let mut front = Vec::new();
    let mut dominated = Vec::new();
    for c in &eligible {
        match eligible.iter().find(|other| dominates(other, c)) {
            Some(other) => dominated.push((c.clone(), other.model.clone())),
            None => front.push(c.clone()),
        }
    }
    front.sort_by(|a, b| b.score.value.total_cmp(&a.score.value));
    let measure = criteria
        .suite
        .as_ref()
        .map_or("quality index".to_string(), |s| format!("{s} score"));
    let (recommended, reason) = match front.first() {
        None => (
            None,
            "no model meets the constraints; loosen them or run more models".to_string(),
        ),
        Some(best) => {
            let row_of = |id: &str| board.rows.iter().find(|r| r.id == id);
            let tied: Vec<Candidate> = front
                .iter()
                .filter(|c| c.model != best.model)
                .filter_map(|c| {
                    let p = board.paired_p_value(
                        row_of(&best.model)?,
                        row_of(&c.model)?,
                        criteria.suite.as_deref(),
                    )?;
                    (p >= ALPHA).then(|| Candidate {
                        paired_p_value: Some(p),
                        ..c.clone()
                    })
                })
                .collect();
            let tied_cheaper = tied
                .iter()
                .filter(|c| {
                    c.usd_per_mtok.unwrap_or(f64::INFINITY)
                        < best.usd_per_mtok.unwrap_or(f64::INFINITY)
                })
                .min_by(|a, b| {
                    a.usd_per_mtok
                        .unwrap_or(f64::INFINITY)
                        .total_cmp(&b.usd_per_mtok.unwrap_or(f64::INFINITY))
                });
            match tied_cheaper {
                Some(cheaper) => (
                    Some(cheaper.model.clone()),
                    format!(
                        "{} has the highest {measure} ({:.1}), but {}'s {:.1} [{:.1}, {:.1}] is \
                         statistically tied with it (paired sign-flip test on the shared items: \
                         p = {:.3} ≥ {ALPHA}) at a lower price (${:.4} vs ${:.4} per 1M tokens)",
                        best.name,
                        best.score.value,
                        cheaper.name,
                        cheaper.score.value,
                        cheaper.score.ci_low,
                        cheaper.score.ci_high,
                        cheaper.paired_p_value.unwrap_or(f64::NAN),
                        cheaper.usd_per_mtok.unwrap_or(f64::NAN),
                        best.usd_per_mtok.unwrap_or(f64::NAN)
                    ),
                ),
                None => (
                    Some(best.model.clone()),
                    format!(
                        "highest {measure} among models meeting the constraints: {:.1} [{:.1}, {:.1}]{}{}",
                        best.score.value,
                        best.score.ci_low,
                        best.score.ci_high,
                        best.usd_per_mtok
                            .map_or(String::new(), |u| format!(", ${u:.4} per 1M tokens")),
                        best.output_tok_s
                            .map_or(String::new(), |s| format!(", {s:.1} output tok/s")),
                    ),
                ),
            }
        }
    };
    Selection {
        criteria: criteria.clone(),
        front,
        dominated,
        excluded,
        recommended,
        reason,
    }
}

/// The speed conditions most rows were measured under (the first of equals in row order);
/// `None` without rows.
fn common_speed_conditions(board: &Leaderboard) -> Option<SpeedConditions> {
    let mut counts: Vec<(&SpeedConditions, usize)> = Vec::new();
    for row in &board.rows {
        match counts.iter_mut().find(|(c, _)| **c == row.speed_conditions) {
            Some(slot) => slot.1 += 1,
            None => counts.push((&row.speed_conditions, 1)),
        }
    }
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(std::cmp::Ordering::Greater))
        .map(|(c, _)| (*c).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(value: f64, half_width: f64) -> Estimate {
        Estimate {
            n: 20,
            value,
            stderr: half_width / 1.96,
            ci_low: value - half_width,
            ci_high: value + half_width,
            ci_method: "test".into(),
            preliminary: false,
        }
    }

    fn candidate(model: &str, score: f64, half: f64, usd: f64, speed: f64) -> Candidate {
        Candidate {
            model: model.into(),
            name: model.into(),
            score: estimate(score, half),
            usd_per_mtok: Some(usd),
            output_tok_s: Some(speed),
            run_id: "r".into(),
            paired_p_value: None,
        }
    }

    #[test]
    fn domination_needs_no_worse_everywhere() {
        let a = candidate("a", 50.0, 5.0, 0.1, 30.0);
        let b = candidate("b", 40.0, 5.0, 0.2, 20.0);
        let c = candidate("c", 60.0, 5.0, 0.3, 10.0);
        assert!(dominates(&a, &b));
        assert!(!dominates(&a, &c) && !dominates(&c, &a));
    }

    #[test]
    fn constraints_name_the_value_that_failed() {
        let criteria = Criteria {
            suite: None,
            max_usd_per_mtok: Some(0.5),
            min_output_tok_s: Some(20.0),
            price: PriceBasis::SelfHosted,
        };
        let pricey = candidate("p", 50.0, 5.0, 0.9, 30.0);
        assert!(constraint_failure(&pricey, &criteria)
            .unwrap()
            .contains("above $0.5"));
        let slow = candidate("s", 50.0, 5.0, 0.1, 5.0);
        assert!(constraint_failure(&slow, &criteria)
            .unwrap()
            .contains("below 20"));
        assert!(constraint_failure(&candidate("ok", 50.0, 5.0, 0.1, 30.0), &criteria).is_none());
    }
}
