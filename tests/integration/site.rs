//! The leaderboard site in a real headless browser (Debian's `chromium`): a run whose model
//! output is hostile HTML is rendered by `yardstick report`; nothing in it executes, the pages
//! log nothing to the console, and clicking a column header reorders the table.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;
use yardstick::backend::scripted::ScriptedBackend;
use yardstick::backend::Backend;
use yardstick::backend::{BackendLoader, Setup};
use yardstick::hardware::HardwareProfiles;
use yardstick::models::ModelEntry;
use yardstick::store::read_manifest;

use crate::pipeline::{run_toy_with, toy_named};
use crate::support::{project_dir, yardstick};

/// Script and event-handler injection, as a model might write them.
const HOSTILE: &str = "<script>document.title='PWNED'</script>\
<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">";

/// SmolLM2 answers every sum right; the other model answers with hostile HTML (always wrong).
struct Hostile;

impl BackendLoader for Hostile {
    fn load(&self, model: &ModelEntry, _setup: Setup) -> Result<Box<dyn Backend>> {
        let honest = model.id.starts_with("smollm2");
        Ok(Box::new(ScriptedBackend::new(move |prompt| {
            let sum: i64 = prompt
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|s| s.parse::<i64>().ok())
                .sum();
            if honest {
                format!(" {sum}\n")
            } else {
                format!(" {HOSTILE}\n")
            }
        })))
    }

    fn backend_name(&self) -> (String, String) {
        ("scripted".into(), "0".into())
    }
}

/// Runs `chromium` headless on `page`, returning (DOM after scripts ran, browser log).
fn chromium(page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "the page tests need Debian's chromium: `apt-get install chromium` (.ci/run does this)",
        );
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            panic!(
                "chromium did not finish rendering {} in 90 s",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Console messages (errors, CSP violations) in a chromium log.
fn console_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("CONSOLE")).collect()
}

/// A two-model toy run with hostile output, priced with the shipped 2-core profile, rendered
/// by `yardstick report`; returns (results folder guard, site folder).
fn rendered_site() -> (crate::pipeline::Toy, PathBuf) {
    // Named like an index task, so that the run has a quality index (v1 over one task).
    let toy = toy_named("mbpp", "code");
    let outcome = run_toy_with(
        &Hostile,
        2,
        &toy.tasks,
        &toy.data,
        toy.results.path(),
        "hostile",
        None,
    );
    let mut manifest = read_manifest(&outcome.run_dir).unwrap();
    let profiles = HardwareProfiles::load(&project_dir().join("hardware.toml")).unwrap();
    manifest.hardware = Some(profiles.get("cloud-cpu-2vcpu-16gib").unwrap().clone());
    std::fs::write(
        outcome.run_dir.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let output = yardstick(
        &project_dir(),
        &[
            "report",
            "--results-dir",
            toy.results.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let site = toy.results.path().join("site");
    (toy, site)
}

#[test]
fn the_site_has_every_page_chart_and_export() {
    let (_toy, site) = rendered_site();
    for file in [
        "index.html",
        "assets/style.css",
        "assets/site.js",
        "charts/quality-vs-price.svg",
        "charts/quality-vs-speed.svg",
        "charts/speed-vs-price.svg",
        "charts/suite-scores.svg",
        "charts/latency.svg",
        "charts/history.svg",
        "leaderboard.csv",
        "leaderboard.md",
        "leaderboard.parquet",
        "models/smollm2-135m-instruct.html",
        "samples/qwen2.5-coder-0.5b-instruct/mbpp.html",
    ] {
        assert!(site.join(file).is_file(), "missing {file}");
    }
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        !index.contains("http://") && !index.contains("https://"),
        "no remote assets"
    );
    let csv = std::fs::read_to_string(site.join("leaderboard.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header and two models:\n{csv}");
    assert!(
        lines[1].starts_with("smollm2-135m-instruct,"),
        "best model first:\n{csv}"
    );
    let chart = std::fs::read_to_string(site.join("charts/quality-vs-price.svg")).unwrap();
    assert!(
        chart.contains("SmolLM2 135M Instruct") && chart.contains("Qwen2.5 Coder 0.5B Instruct")
    );
    // The figures models.toml publishes for the model, each beside this board's result (the toy
    // run has none of their tasks).
    let page = std::fs::read_to_string(site.join("models/smollm2-135m-instruct.html")).unwrap();
    for expected in [
        "Published figures",
        "IFEval",
        "29.9%",
        "no yardstick task has this setting",
        "no result for gsm8k yet",
        "no result for every one of arc_easy, arc_challenge (acc_norm) yet",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} missing from the model page"
        );
    }
}

#[test]
fn hostile_output_is_shown_as_text_and_never_runs() {
    let (_toy, site) = rendered_site();
    let page = site.join("samples/qwen2.5-coder-0.5b-instruct/mbpp.html");
    let raw = std::fs::read_to_string(&page).unwrap();
    assert!(
        raw.contains("&lt;script&gt;document.title="),
        "escaped in the file"
    );
    assert!(!raw.contains(HOSTILE));

    let (dom, log) = chromium(&page, &[]);
    assert!(
        dom.contains("<title>"),
        "chromium rendered the page:\n{log}"
    );
    assert!(!dom.contains("PWNED</title>"), "the injected script ran");
    assert!(
        !dom.contains("data-pwned=\"1\""),
        "the injected event handler ran"
    );
    assert!(
        !dom.contains("<img src=\"x\""),
        "the injected element exists"
    );
    assert!(
        dom.contains("&lt;script&gt;"),
        "the output is visible as text"
    );
    assert_eq!(
        console_lines(&log),
        Vec::<&str>::new(),
        "the page logged to the console"
    );

    let (dom, log) = chromium(&site.join("index.html"), &[]);
    assert!(dom.contains("leaderboard"));
    assert_eq!(console_lines(&log), Vec::<&str>::new());
}

#[test]
fn clicking_a_column_header_sorts_the_table() {
    let (_toy, site) = rendered_site();
    // A test page beside the site: loads the leaderboard in a frame, clicks "Model" twice and
    // writes the row order after each click into its own DOM.
    let probe = site.join("sort-probe.html");
    std::fs::write(
        &probe,
        r##"<!doctype html><body><pre id="out">pending</pre>
<iframe id="f" src="index.html"></iframe>
<script>
const frame = document.getElementById("f");
frame.addEventListener("load", () => {
  const d = frame.contentDocument;
  const order = () => Array.from(d.querySelectorAll("#leaderboard tbody tr"))
    .map((r) => r.cells[0].dataset.value).join("|");
  const header = Array.from(d.querySelectorAll("#leaderboard thead th"))
    .find((h) => h.textContent.trim() === "Model");
  const before = order();
  header.click();
  const first = order();
  const firstSort = header.getAttribute("aria-sort");
  header.click();
  const second = order();
  document.getElementById("out").textContent =
    "RESULT " + JSON.stringify({ before, first, firstSort, second });
});
</script></body>"##,
    )
    .unwrap();
    let (dom, log) = chromium(&probe, &["--allow-file-access-from-files"]);
    let json = dom
        .split("RESULT ")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run:\n{dom}\n{log}"))
        .replace("&quot;", "\"");
    let result: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (smol, qwen) = ("SmolLM2 135M Instruct", "Qwen2.5 Coder 0.5B Instruct");
    assert_eq!(
        result["before"],
        format!("{smol}|{qwen}"),
        "quality order first"
    );
    assert_eq!(
        result["first"],
        format!("{qwen}|{smol}"),
        "by name, ascending"
    );
    assert_eq!(result["firstSort"], "ascending");
    assert_eq!(
        result["second"],
        format!("{smol}|{qwen}"),
        "by name, descending"
    );
}
