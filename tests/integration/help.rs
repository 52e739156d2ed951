//! The help text matches the behaviour: the defaults `yardstick run --help` documents are what a
//! bare `yardstick run` plans (read from `run --dry-run`).

use std::collections::BTreeSet;

use crate::support::{cached_command, project_dir, stderr, yardstick};

#[test]
fn run_help_documents_what_a_bare_run_plans() {
    let help = yardstick(&project_dir(), &["run", "--help"], &[]);
    assert!(help.status.success());
    // clap wraps the text: read it as one line.
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let documented_suites: BTreeSet<String> =
        regex::Regex::new(r"default: ([a-z, ]+?) when no task or suite is named")
            .unwrap()
            .captures(&help)
            .unwrap_or_else(|| panic!("the help names no default suites: {help}"))[1]
            .split(", ")
            .map(str::to_string)
            .collect();
    let documented_limit: usize =
        regex::Regex::new(r"default: (\d+) when neither --limit nor --full is given")
            .unwrap()
            .captures(&help)
            .unwrap_or_else(|| panic!("the help names no default limit: {help}"))[1]
            .parse()
            .unwrap();

    let results = tempfile::tempdir().unwrap();
    let plan = cached_command(results.path(), &["run", "--dry-run"])
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", stderr(&plan));
    let plan = String::from_utf8_lossy(&plan.stdout);
    let line = regex::Regex::new(r"(?m)^task (\S+) \(suite (\S+)\): (\d+) items$").unwrap();
    let tasks: Vec<(String, String, usize)> = line
        .captures_iter(&plan)
        .map(|c| (c[1].to_string(), c[2].to_string(), c[3].parse().unwrap()))
        .collect();
    let planned_suites: BTreeSet<String> = tasks.iter().map(|t| t.1.clone()).collect();
    assert_eq!(planned_suites, documented_suites, "{plan}");
    assert!(
        tasks.iter().all(|(_, _, items)| *items == documented_limit),
        "{plan}"
    );
    assert!(plan.contains("model smollm2-135m-instruct"), "{plan}");
    assert!(
        !results.path().join("runs").exists(),
        "a dry run writes nothing"
    );
}
