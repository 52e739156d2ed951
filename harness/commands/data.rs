//! `yardstick data import|list`.

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
                        "no (yardstick data import DIR)"
                    }
                );
            }
            Ok(())
        }
    }
}
