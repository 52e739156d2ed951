//! `yardstick doctor`: versions, build features, machine, cache locations and configuration
//! layers, for bug reports and for checking that the fast kernels are compiled in.

use std::fmt::Write;
use std::process::Command;

use crate::backend::mistralrs::MISTRALRS_VERSION;
use crate::locations::Locations;
use crate::machine::MachineInfo;

/// The doctor report as text.
pub fn report(locations: &Locations) -> String {
    let machine = MachineInfo::current();
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "{key:<18} {value}");
    };
    line(
        "yardstick",
        format!("{} ({})", crate::HARNESS_VERSION, crate::GIT_COMMIT),
    );
    line("mistral.rs", MISTRALRS_VERSION.to_string());
    line(
        "build profile",
        if cfg!(debug_assertions) {
            "debug (slow: use --release)"
        } else {
            "release"
        }
        .into(),
    );
    line("SIMD compiled", machine.simd_compiled.join(" "));
    line("SIMD on this CPU", machine.simd_detected.join(" "));
    if !machine.simd_compiled.iter().any(|f| f == "avx2")
        && machine.simd_detected.iter().any(|f| f == "avx2")
    {
        line(
            "warning",
            "this CPU has AVX2 but the build does not use it: build with -C target-cpu=native (.cargo/config.toml)".into(),
        );
    }
    line("CPU", machine.cpu_model.clone());
    line("logical cores", machine.logical_cores.to_string());
    line(
        "memory",
        machine.memory_bytes.map_or("unknown".into(), |b| {
            format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
        }),
    );
    line("OS", machine.os.clone());
    line("python3", python_version());
    line("cache", locations.home.display().to_string());
    line("  models", locations.models_dir().display().to_string());
    line("  data", locations.data_dir().display().to_string());
    line("results", locations.results_dir().display().to_string());
    line(
        "configuration",
        "layers, lowest first; a higher one adds entries or replaces those of the same id".into(),
    );
    for (layer, holds) in crate::config::describe(locations) {
        line(&format!("  {layer}"), holds);
    }
    out
}

fn python_version() -> String {
    let python = crate::pip::python();
    Command::new(&python)
        .args(["-m", "pip", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| format!("`{python} -m pip` not found: needed to pull models"))
}
