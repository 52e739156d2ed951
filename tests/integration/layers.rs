//! The dependency direction of `harness/lib.rs`, checked: every `crate::…` path in a module
//! names a module of its own layer or a lower one, and the modules of one layer form no circle.
//! Paths are read from the source text (including `use crate::{a, b::c}` groups), so a new
//! module must be given a layer here before it builds green.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::project_dir;

/// The layers of lib.rs, lowest first.
const LAYERS: &[&[&str]] = &[
    &[
        "units",
        "files",
        "natural",
        "interrupt",
        "locations",
        "machine",
        "pip",
    ],
    &[
        "gguf", "data", "metrics", "hardware", "prices", "models", "tasks",
    ],
    &["scoring", "backend", "config"],
    &["store"],
    &["runner"],
    &["rescore", "compare", "leaderboard", "perf", "export"],
    &["select", "nightly", "report", "doctor"],
    &["cli", "commands"],
];

/// Items of the crate root (lib.rs) anyone may use.
const ROOT_ITEMS: &[&str] = &["HARNESS_VERSION", "GIT_COMMIT"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The first segment of each `crate::` path in `source` (comments skipped).
fn crate_paths(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(start) = rest.find("crate::") {
        rest = &rest[start + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level names of a `{…}` group (nested groups belong to their name).
            let mut depth = 0;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(first_segment(&name));
                        name.clear();
                    }
                    _ if depth == 0 => name.push(c),
                    _ => {}
                }
            }
            found.insert(first_segment(&name));
        } else {
            found.insert(first_segment(rest));
        }
    }
    found.remove("");
    found
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// module → the modules it uses, read from every file under `harness/`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = project_dir().join("harness");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = top_module(&root, &path);
                if module == "lib" || module == "main" {
                    continue;
                }
                let used = crate_paths(&std::fs::read_to_string(&path).unwrap());
                graph
                    .entry(module.clone())
                    .or_default()
                    .extend(used.into_iter().filter(|m| *m != module));
            }
        }
    }
    graph
}

fn top_module(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

#[test]
fn modules_use_only_their_own_layer_and_those_below() {
    let graph = module_graph();
    let mut violations = Vec::new();
    for (module, used) in &graph {
        let Some(layer) = layer_of(module) else {
            violations.push(format!(
                "module {module} has no layer in tests/integration/layers.rs"
            ));
            continue;
        };
        for other in used {
            if ROOT_ITEMS.contains(&other.as_str()) {
                continue;
            }
            match layer_of(other) {
                Some(other_layer) if other_layer <= layer => {}
                Some(other_layer) => violations.push(format!(
                    "{module} (layer {}) uses {other} (layer {})",
                    layer + 1,
                    other_layer + 1
                )),
                None => violations.push(format!("{module} uses {other}, which has no layer")),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn modules_of_one_layer_form_no_circle() {
    let graph = module_graph();
    // Depth-first search for a back edge.
    fn visit<'g>(
        module: &'g str,
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| *m == module) {
            let mut circle: Vec<String> = path[start..].iter().map(|m| m.to_string()).collect();
            circle.push(module.to_string());
            return Some(circle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for other in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(other, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(circle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" → "));
        }
    }
}

#[test]
fn the_reader_sees_grouped_and_nested_paths() {
    let source = "use crate::{store::{a, b}, runner::RunPlan};\n\
                  // crate::commented\n\
                  fn f() { crate::tasks::x(); }";
    assert_eq!(
        crate_paths(source),
        ["runner", "store", "tasks"].map(String::from).into()
    );
}
