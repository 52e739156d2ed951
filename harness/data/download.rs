//! Download of a dataset file from its upstream URL, verified before it is placed in the cache.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::files::{sha256_reader, write_atomic};

/// Downloads `url` into `dest` if and only if its bytes hash to `sha256`.
pub fn fetch_verified(url: &str, sha256: &str, dest: &Path) -> Result<()> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .build();
    let response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let mut body = Vec::new();
    std::io::copy(&mut response.into_reader(), &mut body)
        .with_context(|| format!("reading {url}"))?;
    let actual = sha256_reader(&body[..], None)?;
    if actual != sha256 {
        bail!("{url} returned a file with sha256 {actual}, expected {sha256}");
    }
    write_atomic(dest, &body)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// Serves `body` once over HTTP on a loopback port; returns its URL.
    pub fn serve_once(body: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(header.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://127.0.0.1:{port}/data.jsonl")
    }
}
