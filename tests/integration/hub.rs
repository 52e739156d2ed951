//! Model downloads from the Hugging Face Hub and plain addresses, end to end through the binary,
//! against a loopback server that serves the Hub's URL layout
//! (`/ORG/REPO/resolve/REVISION/FILE`) with HTTP Range, a gated repository, and a switch that
//! stalls a download halfway so the test can kill the process mid-file.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use yardstick::files::sha256_reader;

use crate::support::{pulled_model, stderr};

const TOKEN: &str = "hf_test_token";

#[derive(Default)]
struct HubState {
    /// `ORG/REPO/REVISION/FILE` (or `files/NAME` for plain addresses) → bytes.
    files: HashMap<String, Arc<Vec<u8>>>,
    /// Repositories that need `Authorization: Bearer TOKEN`.
    gated: Vec<String>,
    /// Send this many bytes of a file, then hold the connection until cleared.
    stall_after: Option<usize>,
    /// Every request: (path, Range header, Authorization header).
    requests: Vec<(String, Option<String>, Option<String>)>,
}

/// The loopback Hub.
struct FakeHub {
    endpoint: String,
    state: Arc<Mutex<HubState>>,
}

impl FakeHub {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(HubState::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { endpoint, state }
    }

    fn put(&self, key: &str, bytes: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(key.into(), Arc::new(bytes));
    }

    fn requests(&self) -> Vec<(String, Option<String>, Option<String>)> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<HubState>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (mut range, mut auth) = (None, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim().split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "range" => range = Some(value.trim().to_string()),
                "authorization" => auth = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut out = stream;
    let (file, gated) = {
        let mut state = state.lock().unwrap();
        state
            .requests
            .push((path.clone(), range.clone(), auth.clone()));
        let key = match path
            .trim_start_matches('/')
            .splitn(5, '/')
            .collect::<Vec<_>>()[..]
        {
            [org, repo, "resolve", revision, file] => format!("{org}/{repo}/{revision}/{file}"),
            _ => path.trim_start_matches('/').to_string(),
        };
        let repo: String = key.split('/').take(2).collect::<Vec<_>>().join("/");
        (state.files.get(&key).cloned(), state.gated.contains(&repo))
    };
    let reply = |out: &mut TcpStream, status: &str| {
        let _ = write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    };
    if gated && auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return reply(&mut out, "401 Unauthorized");
    }
    let Some(file) = file else {
        return reply(&mut out, "404 Not Found");
    };
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok());
    let (status, start) = match start {
        Some(start) if start >= file.len() => return reply(&mut out, "416 Range Not Satisfiable"),
        Some(start) => ("206 Partial Content", start),
        None => ("200 OK", 0),
    };
    let mut header = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        file.len() - start
    );
    if start > 0 {
        header += &format!(
            "Content-Range: bytes {start}-{}/{}\r\n",
            file.len() - 1,
            file.len()
        );
    }
    let _ = out.write_all(format!("{header}\r\n").as_bytes());
    let stall_after = state.lock().unwrap().stall_after;
    match stall_after {
        Some(stall) if stall > start => {
            let _ = out.write_all(&file[start..stall]);
            let _ = out.flush();
            // Hold the connection (the client waits for the rest) until the test clears the
            // switch, then hang up mid-file.
            while state.lock().unwrap().stall_after.is_some() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        _ => {
            let _ = out.write_all(&file[start..]);
        }
    }
}

/// The binary as a user without a project: an empty working folder, the given cache and user
/// configuration folders, the fake Hub as `HF_ENDPOINT`.
fn yardstick(work: &Path, hub: &FakeHub, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    command
        .current_dir(work.join("cwd"))
        .args(args)
        .env("YARDSTICK_HOME", work.join("cache"))
        .env("YARDSTICK_CONFIG", work.join("config"))
        .env("HF_ENDPOINT", &hub.endpoint)
        .env_remove("HF_TOKEN");
    command
}

fn workspace() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("cwd")).unwrap();
    work
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the yardstick binary runs")
}

fn downloads(models: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(models)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".gguf.download"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn models_add_from_the_hub_resumes_after_a_kill_and_registers_the_real_file() {
    let model = std::fs::read(pulled_model("smollm2-135m-instruct")).unwrap();
    let sha = sha256_reader(&model[..], None).unwrap();
    let hub = FakeHub::start();
    let file = "smollm2-135m-instruct-q4_1.gguf";
    hub.put(
        &format!("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/main/{file}"),
        model.clone(),
    );
    let half = model.len() / 2;
    hub.state.lock().unwrap().stall_after = Some(half);

    let work = workspace();
    let target = format!("hf://HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/{file}");
    let add = ["models", "add", target.as_str(), "--id", "smol-hub"];
    let mut child = yardstick(work.path(), &hub, &add).spawn().unwrap();
    let models = work.path().join("cache/models");
    let started = Instant::now();
    let half_written = |models: &Path| {
        downloads(models)
            .first()
            .is_some_and(|p| std::fs::metadata(p).map_or(0, |m| m.len()) >= half as u64)
    };
    while !half_written(&models) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no partial download appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = downloads(&models);
    assert_eq!(partial.len(), 1);
    assert_eq!(std::fs::metadata(&partial[0]).unwrap().len(), half as u64);
    assert!(
        !models.join("smol-hub.gguf").exists(),
        "a killed download has no final name"
    );
    assert!(
        !work.path().join("config/models.toml").exists(),
        "nothing registered yet"
    );

    hub.state.lock().unwrap().stall_after = None;
    let out = run(&mut yardstick(work.path(), &hub, &add));
    assert!(out.status.success(), "{}", stderr(&out));
    let resumed = hub.requests();
    assert_eq!(
        resumed.last().unwrap().1.as_deref(),
        Some(format!("bytes={half}-").as_str()),
        "the second try asked only for the missing bytes: {resumed:?}"
    );
    assert_eq!(
        resumed.last().unwrap().0,
        format!("/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/resolve/main/{file}")
    );
    let placed = std::fs::read(models.join("smol-hub.gguf")).unwrap();
    assert_eq!(sha256_reader(&placed[..], None).unwrap(), sha);
    assert!(downloads(&models).is_empty());

    let registry = std::fs::read_to_string(work.path().join("config/models.toml")).unwrap();
    for expected in [
        "id = \"smol-hub\"".to_string(),
        format!("sha256 = \"{sha}\""),
        "architecture = \"llama\"".into(),
        "parameters = \"135M\"".into(),
        "quantization = \"Q4_1\"".into(),
        "kind = \"hf\"".into(),
        "repo = \"HuggingFaceTB/SmolLM2-135M-Instruct-GGUF\"".into(),
        "revision = \"main\"".into(),
    ] {
        assert!(
            registry.contains(&expected),
            "{expected} missing from:\n{registry}"
        );
    }
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        summary.contains("context 8192 tokens") && summary.contains("has a chat template"),
        "{summary}"
    );

    let list = run(&mut yardstick(work.path(), &hub, &["models", "list"]));
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let row = list
        .lines()
        .find(|l| l.starts_with("smol-hub "))
        .expect("listed");
    assert!(
        row.contains("present, verified") && row.contains("config/models.toml"),
        "{row}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("smollm2-135m-instruct ") && l.ends_with("built-in")),
        "{list}"
    );

    let again = run(&mut yardstick(work.path(), &hub, &add));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already has a model \"smol-hub\""),
        "{}",
        stderr(&again)
    );
}

#[test]
fn pulls_refuse_a_wrong_hash_and_a_gated_repository_asks_for_hf_token() {
    let model = yardstick::gguf::synthetic(1 << 16);
    let sha = sha256_reader(&model[..], None).unwrap();
    let hub = FakeHub::start();
    hub.put("org/open/main/m.gguf", model.clone());
    hub.put("org/gated/v1/m.gguf", model.clone());
    hub.put("files/m.gguf", model.clone());
    hub.state.lock().unwrap().gated.push("org/gated".into());
    let work = workspace();
    let entry = |id: &str, sha: &str, source: &str| {
        format!(
            "[[model]]\nid = \"{id}\"\ndisplay_name = \"{id}\"\nfamily = \"f\"\narchitecture = \"llama\"\n\
             parameters = \"1M\"\nquantization = \"F32\"\nlicense = \"MIT\"\nsize_bytes = 1\n\
             sha256 = \"{sha}\"\nsource = {source}\n"
        )
    };
    std::fs::create_dir_all(work.path().join("config")).unwrap();
    std::fs::write(
        work.path().join("config/models.toml"),
        format!(
            "{}{}",
            entry(
                "bad",
                &"0".repeat(64),
                "{ kind = \"hf\", repo = \"org/open\", file = \"m.gguf\" }"
            ),
            entry(
                "gated",
                &sha,
                "{ kind = \"hf\", repo = \"org/gated\", file = \"m.gguf\", revision = \"v1\" }"
            )
        ),
    )
    .unwrap();
    let models = work.path().join("cache/models");

    let out = run(&mut yardstick(
        work.path(),
        &hub,
        &["models", "pull", "bad"],
    ));
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(
        message.contains(&format!("sha256 {sha}, expected {}", "0".repeat(64))),
        "{message}"
    );
    assert!(
        message.contains("config/models.toml"),
        "names the file to fix: {message}"
    );
    assert!(!models.join("bad.gguf").exists() && downloads(&models).is_empty());

    let out = run(&mut yardstick(
        work.path(),
        &hub,
        &["models", "pull", "gated"],
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("401") && stderr(&out).contains("set HF_TOKEN"),
        "{}",
        stderr(&out)
    );
    let out =
        run(yardstick(work.path(), &hub, &["models", "pull", "gated"]).env("HF_TOKEN", "hf_wrong"));
    assert!(
        stderr(&out).contains("the token in HF_TOKEN was refused"),
        "{}",
        stderr(&out)
    );
    let out =
        run(yardstick(work.path(), &hub, &["models", "pull", "gated"]).env("HF_TOKEN", TOKEN));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(models.join("gated.gguf").is_file());
    assert!(hub
        .requests()
        .iter()
        .any(|(path, _, auth)| path == "/org/gated/resolve/v1/m.gguf"
            && auth.as_deref() == Some(&format!("Bearer {TOKEN}"))));

    // A plain address, and a file whose architecture mistral.rs cannot load.
    let url = format!("{}/files/m.gguf", hub.endpoint);
    let out = run(&mut yardstick(work.path(), &hub, &["models", "add", &url]));
    assert!(out.status.success(), "{}", stderr(&out));
    let registry = std::fs::read_to_string(work.path().join("config/models.toml")).unwrap();
    assert!(
        registry.contains("id = \"m\"") && registry.contains(&format!("url = \"{url}\"")),
        "{registry}"
    );
    let gemma = work.path().join("gemma.gguf");
    let at = model.windows(5).position(|w| w == b"llama").unwrap();
    let mut bytes = model.clone();
    bytes[at..at + 5].copy_from_slice(b"gemma");
    std::fs::write(&gemma, bytes).unwrap();
    let out = run(&mut yardstick(
        work.path(),
        &hub,
        &["models", "add", gemma.to_str().unwrap()],
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("llama, qwen2, qwen3, phi2, phi3, starcoder2"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("config/models.toml")).unwrap(),
        registry,
        "a refused file leaves the registry as it was"
    );
}
