//! The machine a run happens on: CPU, cores, memory, SIMD features, and the process's peak
//! memory. Linux details come from /proc; elsewhere fields say `unknown`.

use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::units::Bytes;

/// What a manifest records about the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores available to this process.
    pub logical_cores: usize,
    /// Total memory.
    pub memory_bytes: Option<Bytes>,
    /// SIMD features the binary was compiled to use (`-C target-cpu=native`).
    pub simd_compiled: Vec<String>,
    /// SIMD features the CPU reports at run time.
    pub simd_detected: Vec<String>,
    /// Operating system and architecture.
    pub os: String,
}

impl MachineInfo {
    /// Reads the current machine.
    pub fn current() -> Self {
        Self {
            cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
            logical_cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_bytes: proc_kib("/proc/meminfo", "MemTotal:"),
            simd_compiled: simd_compiled(),
            simd_detected: simd_detected(),
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// Resident memory of this process now (Linux `VmRSS`).
pub fn current_rss_bytes() -> Option<Bytes> {
    proc_kib("/proc/self/status", "VmRSS:")
}

/// Peak resident memory of this process so far (Linux `VmHWM`).
pub fn peak_rss_bytes() -> Option<Bytes> {
    proc_kib("/proc/self/status", "VmHWM:")
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// Reads a `Key:   1234 kB` line as bytes.
fn proc_kib(file: &str, key: &str) -> Option<Bytes> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn simd_compiled() -> Vec<String> {
    let features: &[(&str, bool)] = &[
        ("sse4.2", cfg!(target_feature = "sse4.2")),
        ("avx", cfg!(target_feature = "avx")),
        ("avx2", cfg!(target_feature = "avx2")),
        ("fma", cfg!(target_feature = "fma")),
        ("f16c", cfg!(target_feature = "f16c")),
        ("avx512f", cfg!(target_feature = "avx512f")),
        ("neon", cfg!(target_feature = "neon")),
    ];
    features
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| name.to_string())
        .collect()
}

#[cfg(target_arch = "x86_64")]
fn simd_detected() -> Vec<String> {
    let features = [
        ("sse4.2", std::arch::is_x86_feature_detected!("sse4.2")),
        ("avx", std::arch::is_x86_feature_detected!("avx")),
        ("avx2", std::arch::is_x86_feature_detected!("avx2")),
        ("fma", std::arch::is_x86_feature_detected!("fma")),
        ("f16c", std::arch::is_x86_feature_detected!("f16c")),
        ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
    ];
    features
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| name.to_string())
        .collect()
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_detected() -> Vec<String> {
    simd_compiled()
}

/// What a device is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceDescription {
    /// e.g. `NVIDIA H100 80GB HBM3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Device memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
}

/// Name and memory of CUDA GPU `index` from `nvidia-smi`.
pub fn cuda_gpu(index: usize) -> Option<DeviceDescription> {
    let output = Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total",
            "--format=csv,noheader,nounits",
            "-i",
            &index.to_string(),
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    parse_nvidia_smi(&String::from_utf8_lossy(&output.stdout))
}

/// `NAME, MEMORY_MIB` (nvidia-smi's csv without header and units).
fn parse_nvidia_smi(line: &str) -> Option<DeviceDescription> {
    let (name, memory) = line.lines().next()?.rsplit_once(',')?;
    Some(DeviceDescription {
        name: Some(name.trim().to_string()),
        memory_bytes: memory.trim().parse::<u64>().ok().map(|mib| mib << 20),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_machine() {
        let machine = MachineInfo::current();
        // The cores this process may run on, as coreutils' nproc counts them.
        let nproc = std::process::Command::new("nproc").output().unwrap();
        let cores: usize = String::from_utf8_lossy(&nproc.stdout)
            .trim()
            .parse()
            .unwrap();
        assert_eq!(machine.logical_cores, cores);
        if cfg!(target_os = "linux") {
            assert!(machine.memory_bytes.unwrap() > 0);
            assert!(peak_rss_bytes().unwrap() > 0);
        }
    }

    #[test]
    fn native_build_uses_what_the_cpu_has() {
        // .cargo/config.toml builds with target-cpu=native: every compiled feature is present.
        let machine = MachineInfo::current();
        for feature in &machine.simd_compiled {
            assert!(machine.simd_detected.contains(feature), "{feature}");
        }
    }

    #[test]
    fn nvidia_smi_lines_give_name_and_memory() {
        let described = parse_nvidia_smi("NVIDIA H100 80GB HBM3, 81559\n").unwrap();
        assert_eq!(described.name.as_deref(), Some("NVIDIA H100 80GB HBM3"));
        assert_eq!(described.memory_bytes, Some(81559 << 20));
    }
}
