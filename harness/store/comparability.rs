//! Comparability, defined once. Every place that puts two results side by side — the
//! leaderboard, `select`, `nightly`, `merge` and `compare` — asks these keys.
//!
//! - [`TaskConfig`]: one benchmark configuration of a task — task, spec version (of generation,
//!   and of scoring for re-scored runs), dataset files, generation limit, decoding and samples
//!   per item. Two scores of a task are comparable only under the
//!   same configuration *and* on the same items.
//! - [`SpeedConditions`]: where and how speed and cost were measured — machine, hardware price
//!   profile, activation dtype, worker instances and backend version. Speed and cost figures are
//!   compared only under equal conditions.
//! - [`RunKey`]: a whole run's plan — its models, task configurations and item limit; with
//!   equal speed conditions too, a nightly run is comparable with an earlier one.

use serde::Serialize;

use super::records::Manifest;
use crate::machine::DeviceDescription;

/// One benchmark configuration of a task.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TaskConfig {
    /// Task name.
    pub task: String,
    /// Task spec version the outputs were generated under (bumped whenever results would
    /// change).
    pub version: u32,
    /// Task spec version they were scored under (differs for re-scored runs).
    pub scoring_version: u32,
    /// sha256 of every dataset file the task read.
    pub datasets: Vec<String>,
    /// Generation limit used.
    pub max_new_tokens: usize,
    /// Decoding, as recorded (greedy, or temperature and top-p).
    pub sampling: String,
    /// Generations per item.
    pub samples_per_item: usize,
    /// Activation dtype and weights the model ran the task with (they change outputs as well
    /// as speed).
    pub setup: Option<String>,
    pub device: String,
}

impl TaskConfig {
    /// The configuration `model` ran `task` under in the run of `manifest`; `None` when the run
    /// has no such task.
    pub fn of(manifest: &Manifest, model: &str, task: &str) -> Option<Self> {
        let record = manifest.tasks.iter().find(|t| t.name == task)?;
        Some(Self {
            setup: manifest.setup(model, task).map(|s| s.describe()),
            task: record.name.clone(),
            version: record.version,
            scoring_version: record.scored_with_version.unwrap_or(record.version),
            datasets: record.datasets.iter().map(|d| d.sha256.clone()).collect(),
            max_new_tokens: record.max_new_tokens,
            sampling: decoding(manifest),
            samples_per_item: manifest.samples_per_item,
            device: manifest.device.to_string(),
        })
    }

    /// What differs from `other`, for people; `None` when they are the same configuration.
    pub fn difference(&self, other: &Self) -> Option<String> {
        let mut differences = Vec::new();
        if self.task != other.task {
            differences.push(format!("task {} vs {}", self.task, other.task));
        }
        if self.version != other.version {
            differences.push(format!(
                "task version {} vs {}",
                self.version, other.version
            ));
        }
        if self.scoring_version != other.scoring_version {
            differences.push(format!(
                "scored under task version {} vs {}",
                self.scoring_version, other.scoring_version
            ));
        }
        if self.datasets != other.datasets {
            differences.push("other dataset files".into());
        }
        if self.max_new_tokens != other.max_new_tokens {
            differences.push(format!(
                "max new tokens {} vs {}",
                self.max_new_tokens, other.max_new_tokens
            ));
        }
        if self.sampling != other.sampling {
            differences.push(format!("decoding {} vs {}", self.sampling, other.sampling));
        }
        if self.samples_per_item != other.samples_per_item {
            differences.push(format!(
                "samples per item {} vs {}",
                self.samples_per_item, other.samples_per_item
            ));
        }
        if self.setup != other.setup {
            differences.push(format!(
                "{} vs {}",
                self.setup.as_deref().unwrap_or("unrecorded setup"),
                other.setup.as_deref().unwrap_or("unrecorded setup")
            ));
        }
        if self.device != other.device {
            differences.push(format!("device {} vs {}", self.device, other.device));
        }
        (!differences.is_empty()).then(|| differences.join(", "))
    }
}

/// The decoding settings that change results (the seed of sampled decoding does not make two
/// runs incomparable: it is one draw of the same configuration).
fn decoding(manifest: &Manifest) -> String {
    let temperature = manifest.sampling.temperature;
    if temperature == 0.0 {
        "greedy".into()
    } else {
        format!("temperature {temperature}")
    }
}

/// Where and how speed and cost were measured.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SpeedConditions {
    /// CPU model, logical cores and memory of the machine.
    pub machine: String,
    /// Hardware price profile (cost per hour).
    pub hardware: Option<String>,
    /// Activation dtype the backend was asked for.
    pub dtype: Option<String>,
    /// Model instances that ran at once (`--workers`).
    pub workers: usize,
    /// Backend and its version.
    pub backend: String,
}

impl SpeedConditions {
    /// The conditions of the run of `manifest`.
    pub fn of(manifest: &Manifest) -> Self {
        let machine = &manifest.machine;
        let memory_gib = machine.memory_bytes.map_or("? GiB".to_string(), |b| {
            format!("{:.0} GiB", b as f64 / (1u64 << 30) as f64)
        });
        // A GPU run's speed is the GPU's: it names the device (CPU runs read as before).
        let gpu = match (&manifest.device, &manifest.device_info) {
            (device, _) if device.is_cpu() => String::new(),
            (
                device,
                Some(DeviceDescription {
                    name: Some(name), ..
                }),
            ) => {
                format!(", on {device} ({name})")
            }
            (device, _) => format!(", on {device}"),
        };
        Self {
            machine: format!(
                "{}, {} cores, {memory_gib}{gpu}",
                machine.cpu_model, machine.logical_cores
            ),
            hardware: manifest.hardware.as_ref().map(|h| h.name.clone()),
            dtype: manifest.dtype.map(|d| d.as_str().to_string()),
            workers: manifest.workers.unwrap_or(1).max(1),
            backend: format!("{} {}", manifest.backend, manifest.backend_version),
        }
    }

    /// What differs from `other`, for people; `None` when the conditions are the same.
    pub fn difference(&self, other: &Self) -> Option<String> {
        let mut differences = Vec::new();
        if self.machine != other.machine {
            differences.push(format!("machine {} vs {}", self.machine, other.machine));
        }
        if self.hardware != other.hardware {
            differences.push(format!(
                "hardware profile {} vs {}",
                self.hardware.as_deref().unwrap_or("none"),
                other.hardware.as_deref().unwrap_or("none")
            ));
        }
        if self.dtype != other.dtype {
            differences.push(format!(
                "dtype {} vs {}",
                self.dtype.as_deref().unwrap_or("default"),
                other.dtype.as_deref().unwrap_or("default")
            ));
        }
        if self.workers != other.workers {
            differences.push(format!("workers {} vs {}", self.workers, other.workers));
        }
        if self.backend != other.backend {
            differences.push(format!("backend {} vs {}", self.backend, other.backend));
        }
        (!differences.is_empty()).then(|| differences.join(", "))
    }
}

/// A run's plan: models, task configurations and item limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunKey {
    /// Model ids with the sha256 of their weights, in run order.
    pub models: Vec<(String, String)>,
    /// Task configurations of each model, in run order.
    pub tasks: Vec<TaskConfig>,
    /// Items per task (`--limit`), if limited.
    pub limit: Option<usize>,
}

impl RunKey {
    /// The plan of the run of `manifest`.
    pub fn of(manifest: &Manifest) -> Self {
        Self {
            models: manifest
                .models
                .iter()
                .map(|m| (m.id.clone(), m.sha256.clone()))
                .collect(),
            tasks: manifest
                .models
                .iter()
                .flat_map(|m| manifest.tasks.iter().map(move |t| (&m.id, &t.name)))
                .filter_map(|(model, task)| TaskConfig::of(manifest, model, task))
                .collect(),
            limit: manifest.limit,
        }
    }
}

/// Whether a nightly run is comparable with an earlier one: the same plan under the same speed
/// conditions (a nightly job compares speed as well as quality).
pub fn nightly_comparable(a: &Manifest, b: &Manifest) -> bool {
    RunKey::of(a) == RunKey::of(b) && SpeedConditions::of(a) == SpeedConditions::of(b)
}

/// Why shard runs `a` and `b` cannot be merged into one run, if they cannot: they must share
/// the plan, the activation dtype (the outputs must be those one process would give) and the
/// shard count. Machines may differ (shards may run on several).
pub fn merge_mismatch(a: &Manifest, b: &Manifest) -> Option<String> {
    if RunKey::of(a) != RunKey::of(b) || a.tasks != b.tasks {
        return Some(
            "models, tasks (versions, datasets, items, generation limits), decoding and limit must match"
                .into(),
        );
    }
    if a.sampling != b.sampling || a.samples_per_item != b.samples_per_item {
        return Some("decoding (temperature) and samples per item must match".into());
    }
    if a.dtype != b.dtype {
        return Some(format!(
            "activation dtype {} vs {}",
            a.dtype.map_or("default", |d| d.as_str()),
            b.dtype.map_or("default", |d| d.as_str())
        ));
    }
    if a.shard.map(|s| s.count) != b.shard.map(|s| s.count) {
        return Some("shard count differs".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ComputeDevice;
    use crate::store::records::TaskRecord;

    fn manifest(device: ComputeDevice) -> Manifest {
        let mut manifest = Manifest::new("r", Vec::new(), ("mistral.rs".into(), "0.8.1".into()));
        manifest.tasks.push(TaskRecord {
            name: "gsm8k".into(),
            suite: "math".into(),
            version: 3,
            items: 5,
            max_new_tokens: 256,
            datasets: Vec::new(),
            scored_with_version: None,
        });
        manifest.device = device;
        manifest
    }

    #[test]
    fn results_from_different_devices_are_never_alike() {
        let cpu = TaskConfig::of(&manifest(ComputeDevice::Cpu), "m", "gsm8k").unwrap();
        let gpu = TaskConfig::of(&manifest(ComputeDevice::Cuda(0)), "m", "gsm8k").unwrap();
        assert_eq!(cpu.device, "cpu");
        assert_eq!(
            cpu.difference(&gpu).as_deref(),
            Some("device cpu vs cuda:0")
        );
        assert_eq!(cpu.difference(&cpu.clone()), None);
        // A manifest written before devices were recorded reads as a CPU run.
        let old: Manifest = serde_json::from_value({
            let mut value = serde_json::to_value(manifest(ComputeDevice::Cpu)).unwrap();
            value.as_object_mut().unwrap().remove("device");
            value
        })
        .unwrap();
        assert_eq!(TaskConfig::of(&old, "m", "gsm8k").unwrap(), cpu);
    }
}
