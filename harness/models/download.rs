//! Downloading a model file over HTTP(S), from a `url` source or the Hugging Face Hub (`hf`):
//! resumable with an HTTP Range request after an interruption (the bytes already received stay
//! in a `.download` file beside the cache), with a progress bar (rate, ETA), and hashed while it
//! streams so the caller can check the sha256 before the file gets its final name.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::registry::Source;
use crate::files::{hex, sha256_file};

/// The Hub when `HF_ENDPOINT` is not set.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// A file to download and how to ask for it.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The address requested.
    pub url: String,
    /// The Hub repository, for messages about access (`None` for a plain URL).
    pub hub_repo: Option<String>,
    /// Sent as `Authorization: Bearer …` (`HF_TOKEN`, Hub downloads only).
    pub token: Option<String>,
}

impl Remote {
    /// The remote file of a `url` or `hf` source (`None` for other kinds). The Hub endpoint
    /// comes from `HF_ENDPOINT`, the token from `HF_TOKEN`.
    pub fn of(source: &Source) -> Option<Self> {
        match source {
            Source::Url { url } => Some(Self {
                url: url.clone(),
                hub_repo: None,
                token: None,
            }),
            Source::Hf {
                repo,
                file,
                revision,
            } => Some(Self {
                url: hub_url(&hf_endpoint(), repo, revision, file),
                hub_repo: Some(repo.clone()),
                token: std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()),
            }),
            _ => None,
        }
    }
}

/// `HF_ENDPOINT` without a trailing slash, else the Hub.
pub fn hf_endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_HF_ENDPOINT.into())
        .trim_end_matches('/')
        .to_string()
}

/// The Hub's download address of `file` in `repo` at `revision` (a branch name with slashes,
/// such as `refs/pr/1`, is escaped as the Hub expects).
pub fn hub_url(endpoint: &str, repo: &str, revision: &str, file: &str) -> String {
    format!(
        "{endpoint}/{repo}/resolve/{}/{file}",
        revision.replace('/', "%2F")
    )
}

/// Downloads `remote` into `partial`, continuing from the bytes already there; returns the
/// sha256 of the whole file. After a failure the bytes received so far stay in `partial`, and
/// the error says to run the command again to resume.
pub fn download(remote: &Remote, partial: &Path, label: &str) -> Result<String> {
    let have = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .build();
    let mut request = agent.get(&remote.url);
    if let Some(token) = &remote.token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(response) => response,
        // The range starts at the end: every byte is already here.
        Err(ureq::Error::Status(416, _)) if have > 0 => return sha256_file(partial, None),
        Err(ureq::Error::Status(code, response)) => {
            return Err(status_error(remote, code, response.status_text()))
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot reach {}{}", remote.url, resume_hint(have)))
        }
    };
    let resumed = response.status() == 206 && have > 0;
    if resumed {
        let start = response
            .header("Content-Range")
            .and_then(|range| range.strip_prefix("bytes "))
            .and_then(|range| range.split('-').next())
            .and_then(|start| start.parse::<u64>().ok());
        if start != Some(have) {
            bail!(
                "{} answered a resumed download with the wrong range ({:?} for bytes {have}-); \
                 delete {} and run the command again",
                remote.url,
                response.header("Content-Range"),
                partial.display()
            );
        }
    }
    let offset = if resumed { have } else { 0 };
    let total = response
        .header("Content-Length")
        .and_then(|len| len.parse::<u64>().ok())
        .map(|len| len + offset);

    let mut hasher = Sha256::new();
    let mut file = if resumed {
        hash_into(partial, &mut hasher)?;
        OpenOptions::new().append(true).open(partial)
    } else {
        File::create(partial)
    }
    .with_context(|| format!("cannot write {}", partial.display()))?;

    let bar = progress_bar(total, offset, label, resumed);
    let mut body = response.into_reader();
    let mut buffer = vec![0u8; 1 << 20];
    let mut received = offset;
    loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                file.sync_all().ok();
                bar.abandon();
                return Err(error).with_context(|| {
                    format!(
                        "the download of {} broke off after {received} bytes{}",
                        remote.url,
                        resume_hint(received)
                    )
                });
            }
        };
        file.write_all(&buffer[..n])
            .with_context(|| format!("cannot write {}", partial.display()))?;
        hasher.update(&buffer[..n]);
        received += n as u64;
        bar.set_position(received);
    }
    file.sync_all()?;
    bar.finish_and_clear();
    if let Some(total) = total.filter(|total| received < *total) {
        bail!(
            "the download of {} ended after {received} of {total} bytes{}",
            remote.url,
            resume_hint(received)
        );
    }
    Ok(hex(&hasher.finalize()))
}

/// The error for an HTTP status, with what to do about it.
fn status_error(remote: &Remote, code: u16, text: &str) -> anyhow::Error {
    match (code, &remote.hub_repo, &remote.token) {
        (401 | 403, Some(repo), None) => anyhow::anyhow!(
            "{} answered {code} {text}: {repo} is gated or private. Accept its terms on the Hub, \
             create an access token, and set HF_TOKEN to it (export HF_TOKEN=hf_…)",
            remote.url
        ),
        (401 | 403, Some(repo), Some(_)) => anyhow::anyhow!(
            "{} answered {code} {text}: the token in HF_TOKEN was refused for {repo}; check that \
             it is valid and that its account has been granted access to the repository",
            remote.url
        ),
        (404, Some(repo), _) => anyhow::anyhow!(
            "{} answered 404 Not Found: check the repository ({repo}), the file name and the \
             revision",
            remote.url
        ),
        _ => anyhow::anyhow!("{} answered {code} {text}", remote.url),
    }
}

fn resume_hint(bytes: u64) -> String {
    if bytes > 0 {
        format!("; the {bytes} bytes received are kept: run the same command again to resume")
    } else {
        String::new()
    }
}

fn progress_bar(total: Option<u64>, position: u64, label: &str, resumed: bool) -> ProgressBar {
    let bar = match total {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{prefix} {msg}\n  {bar:40} {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
            )
            .expect("static template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{prefix} {msg} {bytes} {bytes_per_sec}")
                .expect("static template"),
        ),
    };
    bar.set_prefix(format!("downloading {label}"));
    if resumed {
        bar.set_message(format!("(resuming at {position} bytes)"));
    }
    bar.set_position(position);
    bar
}

fn hash_into(path: &Path, hasher: &mut Sha256) -> Result<()> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::copy(&mut file, hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_addresses_follow_the_resolve_layout() {
        assert_eq!(
            hub_url("http://127.0.0.1:9", "org/repo", "main", "dir/m.gguf"),
            "http://127.0.0.1:9/org/repo/resolve/main/dir/m.gguf"
        );
        assert_eq!(
            hub_url("https://h", "o/r", "refs/pr/1", "m.gguf"),
            "https://h/o/r/resolve/refs%2Fpr%2F1/m.gguf"
        );
    }
}
