//! `yardstick loglikelihood`: continuations scored by log-likelihood through mistral.rs, one JSONL
//! line of scores per request line.

use std::io::{BufRead, BufReader, Write};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::backend::{
    ActivationDtype, BackendLoader, ContinuationScore, MistralRsLoader, Setup, Weights,
};
use crate::cli::LoglikelihoodArgs;
use crate::config;
use crate::locations::Locations;
use crate::models::{pull, ModelCache};

/// One request line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    context: String,
    continuations: Vec<String>,
}

/// One answer line.
#[derive(Debug, Serialize)]
struct Answer<'a> {
    line: usize,
    model: &'a str,
    scores: Vec<ContinuationScore>,
}

pub(super) fn run(args: &LoglikelihoodArgs, locations: &Locations) -> Result<()> {
    let registry = config::registry(locations)?;
    let model = match &args.model {
        Some(id) => registry.get(id)?,
        None => registry.default_model(),
    };
    let cache = ModelCache::new(locations.models_dir());
    if args.no_pull {
        cache.verified_path(model)?;
    } else {
        pull(&cache, &registry, model)?;
    }
    let input: Box<dyn BufRead> = match args.input.as_deref() {
        None => Box::new(BufReader::new(std::io::stdin())),
        Some(path) if path.as_os_str() == "-" => Box::new(BufReader::new(std::io::stdin())),
        Some(path) => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        )),
    };
    let name = args
        .input
        .as_ref()
        .map_or("standard input".to_string(), |p| p.display().to_string());
    let setup = Setup {
        dtype: ActivationDtype::from(args.dtype).resolve(),
        weights: args.weights.forced().unwrap_or(Weights::Quantized),
        prefix_cache: false,
    };
    let backend = MistralRsLoader::new(cache).load(model, setup)?;
    let mut out = std::io::stdout().lock();
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("{name} line {number}: cannot read"))?;
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = serde_json::from_str(&line).with_context(|| {
            format!(
                "{name} line {number}: expected {{\"context\": \"…\", \"continuations\": [\"…\", …]}}"
            )
        })?;
        if request.continuations.is_empty() {
            bail!("{name} line {number}: `continuations` is empty");
        }
        let scores = backend
            .loglikelihood(&request.context, &request.continuations)
            .with_context(|| format!("{name} line {number}"))?;
        let answer = Answer {
            line: number,
            model: &model.id,
            scores,
        };
        serde_json::to_writer(&mut out, &answer)?;
        writeln!(out)?;
    }
    Ok(())
}
