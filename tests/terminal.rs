//! What the gate says on stderr while it works: progress bars on a real terminal (tmux), drawn
//! and then cleared so that only a line per stage stays; a line per stage and no control code
//! where stderr is a pipe (a CI log); nothing with --quiet; one JSON object per line with
//! --log-format json, errors included.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::keypair;

/// The kernel, init and a whole Debian system (the mmdebstrap rootfs, ~8,000 files) as a
/// service: an unpack long enough for the bar to be drawn many times.
const CONFIG: &str = "kernel:
  image: sealkit-fixtures/kernel:1
  cmdline: \"console=ttyS0\"
init:
  - sealkit-fixtures/init:1
services:
  - name: debian
    image: sealkit-fixtures/rootfs:1
";

struct Setup {
    _tmp: tempfile::TempDir,
    store: PathBuf,
    config: PathBuf,
    key: PathBuf,
    out: PathBuf,
}

fn setup() -> Option<Setup> {
    let tmp = tempfile::tempdir().unwrap();
    let images = ["kernel", "init", "rootfs"];
    let layouts = common::fixture_layouts(&images)?;
    let store = tmp.path().join("store");
    common::import_fixtures(&store, &layouts, &images);
    let config = tmp.path().join("debian.yml");
    std::fs::write(&config, CONFIG).unwrap();
    common::sealkit(&store)
        .arg("lock")
        .arg(&config)
        .arg("--offline")
        .assert()
        .success();
    let (key, _) = keypair(&store, tmp.path(), "release");
    let out = tmp.path().join("out");
    Some(Setup {
        store,
        config,
        key,
        out,
        _tmp: tmp,
    })
}

fn gate(s: &Setup, extra: &[&str]) -> std::process::Output {
    common::sealkit(&s.store)
        .args(extra)
        .arg("gate")
        .arg(&s.config)
        .arg("--key")
        .arg(&s.key)
        .arg("-o")
        .arg(&s.out)
        .output()
        .unwrap()
}

/// The stage lines a run ended with: `   unpack 1.50 s, 3 images, 8,183 files, …`.
fn stage_lines(stderr: &str) -> Vec<&str> {
    let stages = ["policy", "resolve", "unpack", "evidence", "write"];
    stderr
        .lines()
        .filter(|l| {
            let mut words = l.split_whitespace();
            stages.contains(&words.next().unwrap_or("")) && words.next().is_some_and(|w| w.parse::<f64>().is_ok())
        })
        .collect()
}

#[test]
fn a_log_gets_a_line_per_stage_and_no_control_codes() {
    let Some(s) = setup() else { return };
    let run = gate(&s, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r'), "{stderr:?}");
    let lines = stage_lines(&stderr);
    assert_eq!(
        lines
            .iter()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect::<Vec<_>>(),
        ["policy", "resolve", "unpack", "evidence", "policy", "write"],
        "{stderr}"
    );
    assert!(lines[1].ends_with(", 3 images"), "{}", lines[1]);
    let unpack = lines[2];
    assert!(
        unpack.contains(", 3 images, ") && unpack.contains(" files, ") && unpack.ends_with("/s)"),
        "{unpack}"
    );

    let quiet = gate(&s, &["--quiet"]);
    assert_eq!(quiet.status.code(), Some(1));
    let said = String::from_utf8(quiet.stderr).unwrap();
    assert!(stage_lines(&said).is_empty(), "{said}");
    // The verdict is still printed: --quiet silences progress, not the result.
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("DENIED"));
}

#[test]
fn json_logs_are_one_object_per_line_errors_included() {
    let Some(s) = setup() else { return };
    let run = gate(&s, &["--log-format", "json"]);
    assert_eq!(run.status.code(), Some(1));
    let events: Vec<Value> = String::from_utf8(run.stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let unpack = events
        .iter()
        .find(|e| e["event"] == "end" && e["stage"] == "unpack")
        .expect("the unpack's end");
    assert_eq!((unpack["steps"].as_u64(), unpack["total"].as_u64()), (Some(3), Some(3)));
    assert!(unpack["files"].as_u64().unwrap() > 1000 && unpack["bytes"].as_u64().unwrap() > 0);
    let last = events.last().unwrap();
    assert_eq!(
        (last["level"].as_str(), last["exit"].as_u64()),
        (Some("error"), Some(1)),
        "{last}"
    );
    // Bad usage is an error object too.
    let bad = common::sealkit(&s.store)
        .args(["--log-format", "json", "gate", "/nonexistent.yml", "--key"])
        .arg(&s.key)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let said = String::from_utf8(bad.stderr).unwrap();
    let error: Value = serde_json::from_str(said.lines().last().unwrap()).unwrap();
    assert_eq!(error["level"], "error");
    assert!(
        error["message"].as_str().unwrap().contains("/nonexistent.yml"),
        "{error}"
    );
}

/// tmux gives sealkit a real terminal; pipe-pane records every byte written to it. The bar is
/// drawn (frames with its counts), and when the run is over the screen holds the stage lines
/// and the summary, with no bar left behind.
#[test]
fn a_terminal_gets_bars_that_finish_cleanly() {
    let Some(s) = setup() else { return };
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI needs tmux (scripts/test)");
        return;
    }
    let dir = s.out.parent().unwrap();
    let socket = dir.join("tmux.sock");
    let go = dir.join("go");
    let raw = dir.join("raw.log");
    let script = dir.join("run.sh");
    std::fs::write(
        &script,
        format!(
            "while [ ! -e '{go}' ]; do sleep 0.05; done\n\
             SEALKIT_STORE='{store}' SEALKIT_SIGSTORE='{store}/sigstore-cache' '{bin}' gate '{config}' --key '{key}' -o '{out}'\n\
             echo \"EXIT=$?\"\nsleep 600\n",
            go = go.display(),
            store = s.store.display(),
            bin = assert_cmd::cargo::cargo_bin("sealkit").display(),
            config = s.config.display(),
            key = s.key.display(),
            out = s.out.display(),
        ),
    )
    .unwrap();
    /// The server goes with the test, whatever its end.
    struct Server(PathBuf);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = Command::new("tmux").arg("-S").arg(&self.0).arg("kill-server").status();
        }
    }
    let _server = Server(socket.clone());
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux").arg("-S").arg(&socket).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let command = format!("TERM=xterm-256color bash '{}'", script.display());
    tmux(&["new-session", "-d", "-s", "gate", "-x", "160", "-y", "50", &command]);
    tmux(&["pipe-pane", "-o", "-t", "gate", &format!("cat >> '{}'", raw.display())]);
    std::fs::write(&go, b"").unwrap();
    let started = Instant::now();
    let screen = loop {
        let screen = tmux(&["capture-pane", "-p", "-S", "-", "-t", "gate"]);
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no end in 300 s: {screen}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(screen.contains("EXIT=1"), "{screen}");

    // Drawn: frames of the unpack bar with its counts, redrawn in place.
    let bytes = std::fs::read(&raw).unwrap();
    let drawn = String::from_utf8_lossy(&bytes);
    let frames = drawn.matches("/3 images · ").count();
    assert!(frames >= 2, "{frames} frames of the bar: {drawn:?}");
    assert!(drawn.contains("\u{1b}[2K"), "the bar is never cleared: {drawn:?}");

    // Finished cleanly: each stage's line once, the summary, no bar.
    let lines = stage_lines(&screen);
    assert_eq!(lines.len(), 6, "{screen}");
    assert!(lines[2].contains(", 3 images, "), "{screen}");
    assert!(
        !screen.contains("[=") && !screen.contains("/3 images · "),
        "a bar was left: {screen}"
    );
    assert!(
        screen.contains("sealkit gate ") && screen.contains("COMPONENT"),
        "{screen}"
    );
}

/// What a command did is a note for people, an object for a log collector, and nothing at all
/// with --quiet.
#[test]
fn what_a_command_did_follows_the_log_format_and_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let keygen = |name: &str, extra: &[&str]| {
        let out = common::sealkit(tmp.path())
            .args(extra)
            .arg("keygen")
            .arg("-o")
            .arg(tmp.path().join(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(keygen("text", &[]).starts_with("wrote "));
    let json = keygen("json", &["--log-format", "json"]);
    let said: Value = serde_json::from_str(json.trim_end()).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(said["level"], "info");
    assert!(said["message"].as_str().unwrap().starts_with("wrote "), "{said}");
    assert_eq!(keygen("quiet", &["--quiet"]), "");
    // Both: JSON, of warnings and errors only.
    assert_eq!(keygen("both", &["--quiet", "--log-format", "json"]), "");
}
