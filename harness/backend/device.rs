//! Where a model runs: the CPU, a CUDA GPU or a Metal GPU (`--device cpu|cuda[:N]|metal[:N]`),
//! which of them this build can use (cargo features `cuda`, `metal`), and what the device is
//! (name, memory) for the run manifest and the choice of hardware price profile.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::machine::cuda_gpu;
pub use crate::machine::DeviceDescription;

/// A compute device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComputeDevice {
    /// The CPU (the default build's only device).
    #[default]
    Cpu,
    /// CUDA GPU number N (`cuda` feature).
    Cuda(usize),
    /// Metal GPU number N (`metal` feature).
    Metal(usize),
}

impl ComputeDevice {
    /// The best device this build can use: the first CUDA GPU with the `cuda` feature, the first
    /// Metal GPU with `metal`, else the CPU.
    pub fn best_compiled() -> Self {
        if cfg!(feature = "cuda") {
            ComputeDevice::Cuda(0)
        } else if cfg!(feature = "metal") {
            ComputeDevice::Metal(0)
        } else {
            ComputeDevice::Cpu
        }
    }

    /// Whether this is the CPU.
    pub fn is_cpu(&self) -> bool {
        *self == ComputeDevice::Cpu
    }

    /// Checks that this build can use the device, with the fix when it cannot.
    pub fn check_compiled(&self) -> Result<()> {
        let (feature, compiled) = match self {
            ComputeDevice::Cpu => return Ok(()),
            ComputeDevice::Cuda(_) => ("cuda", cfg!(feature = "cuda")),
            ComputeDevice::Metal(_) => ("metal", cfg!(feature = "metal")),
        };
        if !compiled {
            bail!(
                "--device {self}: this yardstick was built without the `{feature}` feature; \
                 rebuild it with `cargo build --release --features {feature}` (docs/GPU.md), or \
                 use --device cpu"
            );
        }
        Ok(())
    }

    /// The device's name and memory, as far as the machine tells: `nvidia-smi` for CUDA GPUs.
    pub fn describe(&self) -> DeviceDescription {
        match self {
            ComputeDevice::Cpu => DeviceDescription::default(),
            ComputeDevice::Cuda(index) => cuda_gpu(*index).unwrap_or_default(),
            ComputeDevice::Metal(_) => DeviceDescription {
                name: Some("Apple GPU (Metal)".into()),
                memory_bytes: None,
            },
        }
    }
}

impl fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComputeDevice::Cpu => write!(f, "cpu"),
            ComputeDevice::Cuda(index) => write!(f, "cuda:{index}"),
            ComputeDevice::Metal(index) => write!(f, "metal:{index}"),
        }
    }
}

impl FromStr for ComputeDevice {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let (kind, index) = match text.split_once(':') {
            Some((kind, index)) => {
                let Ok(index) = index.parse::<usize>() else {
                    bail!("device {text:?}: the GPU number after ':' must be 0, 1, …");
                };
                (kind, index)
            }
            None => (text, 0),
        };
        match kind {
            "cpu" if !text.contains(':') => Ok(ComputeDevice::Cpu),
            "cuda" => Ok(ComputeDevice::Cuda(index)),
            "metal" => Ok(ComputeDevice::Metal(index)),
            _ => bail!("device {text:?}: expected cpu, cuda, cuda:N, metal or metal:N"),
        }
    }
}

impl Serialize for ComputeDevice {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ComputeDevice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_print_and_refuse_nonsense() {
        for (text, device) in [
            ("cpu", ComputeDevice::Cpu),
            ("cuda", ComputeDevice::Cuda(0)),
            ("cuda:1", ComputeDevice::Cuda(1)),
            ("metal", ComputeDevice::Metal(0)),
        ] {
            assert_eq!(text.parse::<ComputeDevice>().unwrap(), device);
        }
        assert_eq!(ComputeDevice::Cuda(1).to_string(), "cuda:1");
        for bad in ["gpu", "cuda:x", "cpu:1", "cuda:-1"] {
            assert!(bad.parse::<ComputeDevice>().is_err(), "{bad}");
        }
    }

    #[test]
    #[cfg(not(any(feature = "cuda", feature = "metal")))]
    fn the_default_build_runs_on_the_cpu_and_names_the_feature_a_gpu_needs() {
        assert_eq!(ComputeDevice::best_compiled(), ComputeDevice::Cpu);
        let error = ComputeDevice::Cuda(0)
            .check_compiled()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--features cuda") && error.contains("--device cpu"),
            "{error}"
        );
        assert!(ComputeDevice::Cpu.check_compiled().is_ok());
    }
}
