//! `benches/reproduction.py` sets a published average of several benchmarks beside the same
//! mean of yardstick's tasks with an interval it computes in Python; the model pages compute it
//! with [`Estimate::weighted_mean_of_estimates`]. The two must agree, also on small, all-wrong
//! and all-right parts, or REPRODUCTION.md and the site would give different verdicts.

use yardstick::metrics::Estimate;

use crate::support::{project_dir, run_reference};

/// Reads `[[estimate, …], …]` (each `{n, value, stderr, ci_low, ci_high}`) and prints
/// `mean_of_estimates` of each list (after the line that puts benches/ on the path).
const PYTHON_MEAN: &str = r#"
import json
from reproduction import mean_of_estimates
print(json.dumps([mean_of_estimates(parts) for parts in json.load(sys.stdin)]))
"#;

fn outcomes(n: usize, right: usize) -> Vec<f64> {
    (0..n).map(|i| f64::from(u8::from(i < right))).collect()
}

#[test]
fn the_reproduction_script_gives_a_published_average_the_model_pages_interval() {
    let cases: Vec<Vec<Estimate>> = [
        vec![(2376, 1105), (1172, 315)],
        vec![(40, 0), (164, 89)],
        vec![(12, 12), (30, 3)],
        vec![(5, 2), (7, 7), (500, 250)],
        // An all-right part of one item: its variance comes from the floor, and the effective n
        // (not the Kish size) sets the interval.
        vec![(1, 1), (1000, 999)],
    ]
    .iter()
    .map(|parts| {
        parts
            .iter()
            .map(|&(n, right)| Estimate::proportion(&outcomes(n, right)))
            .collect()
    })
    .collect();
    let benches = project_dir().join("benches").display().to_string();
    let script = format!("import sys\nsys.path.insert(0, {benches:?})\n{PYTHON_MEAN}");
    let python = run_reference(&script, &serde_json::json!(cases));
    for (parts, theirs) in cases.iter().zip(python.as_array().unwrap()) {
        let weight = 1.0 / parts.len() as f64;
        let weighted: Vec<(f64, &Estimate)> = parts.iter().map(|e| (weight, e)).collect();
        let ours = Estimate::weighted_mean_of_estimates(&weighted);
        for (field, value) in [
            ("value", ours.value),
            ("ci_low", ours.ci_low),
            ("ci_high", ours.ci_high),
        ] {
            let python = theirs[field].as_f64().unwrap();
            assert!(
                (python - value).abs() < 1e-9,
                "{field}: Python {python}, Rust {value} for {parts:?}"
            );
        }
        assert_eq!(theirs["n"].as_u64(), Some(ours.n as u64));
    }
}
