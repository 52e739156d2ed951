//! Hardware price profiles (`hardware.toml`): what an hour of a machine costs, with the source and
//! date of the price. A run records the profile it used, so cost can be recomputed from results.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::machine::DeviceDescription;
use crate::machine::MachineInfo;

/// One priced machine class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareProfile {
    /// Short name used with `--hardware`.
    pub name: String,
    /// What the machine is.
    pub description: String,
    /// Price of one hour, USD.
    pub usd_per_hour: f64,
    /// Where the price comes from.
    pub source: String,
    /// When the price was recorded (YYYY-MM-DD).
    pub date: String,
    /// Which machines this profile is picked for when no `--hardware` is given.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<MachineMatch>,
}

/// Conditions a machine must meet for a profile to be picked automatically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineMatch {
    /// Exact logical core count.
    pub logical_cores: Option<usize>,
    /// Whether the run uses a GPU (`false` profiles match CPU runs, `true` ones GPU runs).
    pub gpu: Option<bool>,
    /// Text the GPU's name must contain (case-insensitive), e.g. `H100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HardwareFile {
    hardware: Vec<HardwareProfile>,
}

/// The profiles of a `hardware.toml`.
#[derive(Debug, Clone)]
pub struct HardwareProfiles {
    profiles: Vec<HardwareProfile>,
}

impl HardwareProfiles {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read hardware profiles {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses profiles from TOML text.
    pub fn parse(text: &str) -> Result<Self> {
        let file: HardwareFile = toml::from_str(text)?;
        for profile in &file.hardware {
            if !(profile.usd_per_hour.is_finite() && profile.usd_per_hour > 0.0) {
                bail!(
                    "hardware profile {:?}: usd_per_hour = {} must be a positive number of dollars",
                    profile.name,
                    profile.usd_per_hour
                );
            }
            if chrono::NaiveDate::parse_from_str(&profile.date, "%Y-%m-%d").is_err() {
                bail!(
                    "hardware profile {:?}: date = {:?} is not a date; write it as YYYY-MM-DD",
                    profile.name,
                    profile.date
                );
            }
        }
        Ok(Self {
            profiles: file.hardware,
        })
    }

    /// These profiles with `higher`'s added; a profile of the same name is replaced in place.
    pub fn overlaid_with(mut self, higher: Self) -> Self {
        for profile in higher.profiles {
            match self.profiles.iter_mut().find(|p| p.name == profile.name) {
                Some(lower) => *lower = profile,
                None => self.profiles.push(profile),
            }
        }
        self
    }

    /// Every profile, in file order.
    pub fn all(&self) -> &[HardwareProfile] {
        &self.profiles
    }

    /// The profile named `name`, or an error listing the names there are.
    pub fn get(&self, name: &str) -> Result<&HardwareProfile> {
        self.profiles
            .iter()
            .find(|p| p.name == name)
            .with_context(|| {
                let names: Vec<&str> = self.profiles.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "unknown hardware profile {name:?}; hardware.toml has: {}",
                    names.join(", ")
                )
            })
    }

    /// The first profile whose `match` fits `machine` and the run's GPU (`None`: a CPU run).
    pub fn matching(
        &self,
        machine: &MachineInfo,
        gpu: Option<&DeviceDescription>,
    ) -> Option<&HardwareProfile> {
        self.profiles.iter().find(|profile| {
            profile.matches.as_ref().is_some_and(|m| match gpu {
                None => {
                    m.logical_cores
                        .is_none_or(|cores| cores == machine.logical_cores)
                        && m.gpu != Some(true)
                }
                Some(gpu) => {
                    let name = gpu.name.as_deref().unwrap_or_default().to_lowercase();
                    m.gpu == Some(true)
                        && m.gpu_name
                            .as_ref()
                            .is_some_and(|wanted| name.contains(&wanted.to_lowercase()))
                }
            })
        })
    }
}

/// The price profile a run is costed with: the one named (`--hardware`), else the profile of
/// `path` matching `machine`; none when nothing is named and `path` does not exist.
pub fn choose_profile(
    profiles: &HardwareProfiles,
    name: Option<&str>,
    machine: &MachineInfo,
    gpu: Option<&DeviceDescription>,
) -> Result<Option<HardwareProfile>> {
    Ok(match name {
        Some(name) => Some(profiles.get(name)?.clone()),
        None => profiles.matching(machine, gpu).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
[[hardware]]
name = "small"
description = "2 cores"
usd_per_hour = 0.1
source = "test"
date = "2026-01-02"
match = { logical_cores = 2, gpu = false }

[[hardware]]
name = "gpu"
description = "a GPU"
usd_per_hour = 2.0
source = "test"
date = "2026-01-02"
"#;

    fn machine(cores: usize) -> MachineInfo {
        MachineInfo {
            logical_cores: cores,
            ..MachineInfo::current()
        }
    }

    #[test]
    fn picks_by_name_or_by_machine() {
        let profiles = HardwareProfiles::parse(TWO).unwrap();
        assert_eq!(profiles.get("gpu").unwrap().usd_per_hour, 2.0);
        assert!(format!("{:#}", profiles.get("tpu").unwrap_err()).contains("small, gpu"));
        assert_eq!(profiles.matching(&machine(2), None).unwrap().name, "small");
        assert!(profiles.matching(&machine(16), None).is_none());
    }

    #[test]
    fn rejects_bad_prices_and_dates() {
        let free = TWO.replace("usd_per_hour = 0.1", "usd_per_hour = 0.0");
        assert!(HardwareProfiles::parse(&free)
            .unwrap_err()
            .to_string()
            .contains("positive"));
        let undated = TWO.replace("2026-01-02", "last year");
        assert!(HardwareProfiles::parse(&undated)
            .unwrap_err()
            .to_string()
            .contains("YYYY-MM-DD"));
    }

    #[test]
    fn the_shipped_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("hardware.toml");
        let profiles = HardwareProfiles::load(&path).unwrap();
        assert!(profiles.all().len() >= 4);
        assert_eq!(
            profiles.matching(&machine(2), None).unwrap().name,
            "cloud-cpu-2vcpu-16gib"
        );
        let gpu = |name: &str| DeviceDescription {
            name: Some(name.into()),
            memory_bytes: None,
        };
        let for_gpu = |name: &str| {
            profiles
                .matching(&machine(2), Some(&gpu(name)))
                .map(|p| p.name.clone())
        };
        assert_eq!(
            for_gpu("NVIDIA H100 80GB HBM3").as_deref(),
            Some("cloud-gpu-h100")
        );
        assert_eq!(for_gpu("NVIDIA L4").as_deref(), Some("cloud-gpu-l4"));
        assert_eq!(
            for_gpu("NVIDIA A100-SXM4-40GB").as_deref(),
            Some("cloud-gpu-a100-40gb")
        );
        // An unpriced GPU gets no profile (a CPU profile would misprice it).
        assert_eq!(for_gpu("NVIDIA H200"), None);
    }
}
