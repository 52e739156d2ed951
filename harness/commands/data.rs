//! `yardstick data import|list|pull`.

use anyhow::Result;

use crate::cli::DataCommand;
use crate::data::DataCache;
use crate::locations::Locations;

pub(super) fn run(command: DataCommand, locations: &Locations) -> Result<()> {
    let tasks = crate::config::tasks(locations)?;
    let known = tasks.datasets();
    let cache = DataCache::new(locations.data_dir());
    match command {
        DataCommand::Import { dir } => {
            let report = cache.import(&dir, &known)?;
            for file in &report.imported {
                println!("imported        {file}");
            }
            for file in &report.already_present {
                println!("already cached  {file}");
            }
            let missing: Vec<&str> = known
                .iter()
                .filter(|d| !cache.contains(d))
                .map(|d| d.file.as_str())
                .collect();
            println!(
                "{} imported, {} already cached, {} other files ignored",
                report.imported.len(),
                report.already_present.len(),
                report.unrecognized
            );
            if !missing.is_empty() {
                println!("still missing: {}", missing.join(", "));
            }
            Ok(())
        }
        DataCommand::Pull { tasks: names } => {
            let datasets = if names.is_empty() {
                known
            } else {
                let mut wanted = Vec::new();
                for name in &names {
                    for dataset in tasks.get(name)?.datasets() {
                        if !wanted.contains(dataset) {
                            wanted.push(dataset.clone());
                        }
                    }
                }
                wanted
            };
            for (file, fetched) in cache.pull(&datasets)? {
                println!(
                    "{:<16}{file}",
                    if fetched { "fetched" } else { "already cached" }
                );
            }
            Ok(())
        }
        DataCommand::List => {
            println!("{:<36} {:<14} {:<8} cached", "file", "sha256", "license");
            for dataset in &known {
                println!(
                    "{:<36} {:<14} {:<8} {}",
                    dataset.file,
                    &dataset.sha256[..12],
                    dataset.license,
                    if cache.contains(dataset) {
                        "yes"
                    } else {
                        "no (yardstick data pull, or data import DIR)"
                    }
                );
            }
            Ok(())
        }
    }
}
