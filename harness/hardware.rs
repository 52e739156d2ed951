//! Hardware price profiles (`hardware.toml`): what an hour of a machine costs, with the source and
//! date of the price. A run records the profile it used, so cost can be recomputed from results.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

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
    /// Whether the machine has a GPU (yardstick runs on CPU only today: `false` profiles match).
    pub gpu: Option<bool>,
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

    /// The first profile whose `match` fits `machine` (a CPU-only machine).
    pub fn matching(&self, machine: &MachineInfo) -> Option<&HardwareProfile> {
        self.profiles.iter().find(|profile| {
            profile.matches.as_ref().is_some_and(|m| {
                m.logical_cores
                    .is_none_or(|cores| cores == machine.logical_cores)
                    && m.gpu != Some(true)
            })
        })
    }
}

/// The price profile a run is costed with: the one named (`--hardware`), else the profile of
/// `path` matching `machine`; none when nothing is named and `path` does not exist.
pub fn choose_profile(
    path: &Path,
    name: Option<&str>,
    machine: &MachineInfo,
) -> Result<Option<HardwareProfile>> {
    if name.is_none() && !path.exists() {
        return Ok(None);
    }
    let profiles = HardwareProfiles::load(path)?;
    Ok(match name {
        Some(name) => Some(profiles.get(name)?.clone()),
        None => profiles.matching(machine).cloned(),
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
        assert_eq!(profiles.matching(&machine(2)).unwrap().name, "small");
        assert!(profiles.matching(&machine(16)).is_none());
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
            profiles.matching(&machine(2)).unwrap().name,
            "cloud-cpu-2vcpu-16gib"
        );
    }
}
