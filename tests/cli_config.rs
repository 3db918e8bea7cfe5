//! `sealkit config` on bad input: every case exits 2 with one clear message that says what is
//! wrong, where (file:line:column and the field) and how to fix it. Never a panic, never a hang.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const HEAD: &str = "kernel:\n  image: linuxkit/kernel:6.12.59\ninit:\n  - linuxkit/init:v1\n";

fn sealkit() -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    // Keep the tests' image store out of the user's cache.
    c.env(
        "SEALKIT_STORE",
        std::env::temp_dir().join(format!("sealkit-cli-tests-{}", std::process::id())),
    );
    c
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `sealkit config` on `yaml` and checks exit code 2, no panic, and every `expect` fragment
/// in stderr (which must also carry a hint).
fn rejects(yaml: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.yml", yaml.as_bytes());
    let out = sealkit().arg("config").arg(&file).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("bad.yml"), "no file name in:\n{stderr}");
    assert!(stderr.contains("hint:"), "no hint in:\n{stderr}");
    for fragment in expect {
        assert!(stderr.contains(fragment), "{fragment:?} not in:\n{stderr}");
    }
    assert!(
        out.stdout.is_empty(),
        "nothing may be printed on stdout for a rejected file"
    );
}

fn service(body: &str) -> String {
    format!("{HEAD}services:\n  - name: svc\n    image: alpine:3.20\n{body}")
}

#[test]
fn wrong_types() {
    rejects(
        &service("    readonly: \"yes\"\n"),
        &["bad.yml:8:15", "services[0].readonly"],
    );
    // YAML 1.1 booleans are strings under LinuxKit's schema (YAML 1.2 core).
    rejects(&service("    readonly: yes\n"), &["bad.yml:8:15"]);
    rejects(
        &service("    command: [sleep, 10]\n"),
        &["bad.yml:8:22", "services[0].command[1]"],
    );
    rejects(
        &service("    capabilities: CAP_NET_ADMIN\n"),
        &["services[0].capabilities"],
    );
    rejects(&format!("{HEAD}services:\n  - [a, b]\n"), &["services[0]"]);
    rejects("kernel: linuxkit/kernel:1\n", &["bad.yml:1:9", "kernel"]);
}

#[test]
fn unknown_and_duplicate_keys() {
    rejects(
        &service("    capabilites: [CAP_NET_ADMIN]\n"),
        &["bad.yml:8:5", "unknown field `capabilites`", "docs/config.md"],
    );
    rejects(
        &service("    net: host\n    net: new\n"),
        &["bad.yml:9:5", "duplicate key `net`"],
    );
    rejects(&format!("{HEAD}kernel:\n  cmdline: x\n"), &["duplicate key `kernel`"]);
}

#[test]
fn null_is_not_an_empty_list() {
    rejects(&service("    capabilities:\n"), &["services[0].capabilities"]);
}

#[test]
fn bad_capabilities() {
    rejects(
        &service("    capabilities: [CAP_SYS_ADMN]\n"),
        &["unknown capability \"CAP_SYS_ADMN\"", "bad.yml:8:20"],
    );
    rejects(
        &service("    capabilities: [sys_admin]\n"),
        &["did you mean CAP_SYS_ADMIN"],
    );
    rejects(&service("    capabilities: [all, CAP_KILL]\n"), &["single entry"]);
    rejects(&service("    capabilities.add: [all]\n"), &["capabilities.add[0]"]);
}

#[test]
fn malformed_binds_mounts_tmpfs_rlimits_devices() {
    rejects(&service("    binds: [/var/log]\n"), &["services[0].binds[0]", "no ':'"]);
    rejects(&service("    binds: [\"/a:/b:ro:x\"]\n"), &["too many ':'"]);
    rejects(&service("    binds.add: [\"/a:relative\"]\n"), &["not absolute"]);
    rejects(
        &service("    mounts:\n      - destination: /x\n        source: /y\n"),
        &["services[0].mounts[0]", "has no type"],
    );
    rejects(&service("    tmpfs: [\"/run:a:b\"]\n"), &["services[0].tmpfs[0]"]);
    rejects(
        &service("    rlimits: [\"nofile,100\"]\n"),
        &["services[0].rlimits[0]", "three fields"],
    );
    rejects(&service("    rlimits: [\"nofiles,1,1\"]\n"), &["unknown rlimit"]);
    rejects(&service("    rlimits: [\"nofile,10,1\"]\n"), &["soft limit exceeds"]);
    rejects(
        &service("    devices:\n      - path: /dev/tty0\n        type: c\n        major: 4\n        minor: 0\n"),
        &["services[0].devices[0]", "no `mode`"],
    );
    rejects(
        &service("    devices:\n      - path: all\n        type: x\n"),
        &["device class"],
    );
    rejects(&service("    net: bridge\n"), &["services[0].net", "namespace"]);
    rejects(&service("    oomScoreAdj: 2000\n"), &["oomScoreAdj"]);
    rejects(&service("    env: [NOEQUALS]\n"), &["services[0].env[0]", "KEY=VALUE"]);
}

#[test]
fn file_modes_out_of_range() {
    rejects(
        &format!("{HEAD}files:\n  - path: etc/x\n    contents: x\n    mode: \"0800\"\n"),
        &["files[0].mode", "octal"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: etc/x\n    contents: x\n    mode: \"17777\"\n"),
        &["larger than 07777"],
    );
    // Unquoted, 0644 is a YAML number, which LinuxKit's schema rejects for a string field.
    rejects(
        &format!("{HEAD}files:\n  - path: etc/x\n    contents: x\n    mode: 0644\n"),
        &["files[0].mode"],
    );
}

#[test]
fn names_with_slashes_or_dots() {
    for name in ["a/b", "..", "Getty", "x.y"] {
        rejects(
            &format!("{HEAD}onboot:\n  - name: \"{name}\"\n    image: alpine:3.20\n"),
            &["onboot[0].name", "a-z, 0-9"],
        );
    }
    rejects(
        &format!("{HEAD}services:\n  - name: a\n    image: x:1\n  - name: a\n    image: y:1\n"),
        &["services[1].name", "already used by services[0]"],
    );
    rejects(&format!("{HEAD}volumes:\n  - name: \"v/1\"\n"), &["volumes[0].name"]);
}

#[test]
fn file_paths_that_escape() {
    rejects(
        &format!("{HEAD}files:\n  - path: ../etc/passwd\n    contents: x\n"),
        &["files[0].path", "`..`"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: etc/../../x\n    contents: x\n"),
        &["`..`"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: /\n    directory: true\n"),
        &["image root"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: etc/x\n    contents: x\n    source: /etc/hostname\n"),
        &["files[0]", "contents, source are mutually exclusive"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: etc/x\n    metadata: toml\n"),
        &["unknown metadata format"],
    );
}

/// cpio, tar and the kernel's unpacker end a name at a NUL: `bin/sh\0hidden` would be scanned
/// under one name and land under another. Line breaks and escapes disguise names in listings.
#[test]
fn control_characters_in_file_names() {
    rejects(
        &format!("{HEAD}files:\n  - path: \"bin/sh\\0hidden\"\n    contents: x\n"),
        &[
            "bad.yml:6:11",
            "error[bad-value]",
            "files[0].path",
            r#""bin/sh\0hidden" holds the control character '\0'"#,
            "NUL",
        ],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: \"etc/a\\nb\"\n    contents: x\n"),
        &["files[0].path", "'\\n'"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: etc/link\n    symlink: \"/bin/sh\\0x\"\n"),
        &["error[bad-value]", "files[0].symlink", "'\\0'"],
    );
    rejects(
        &format!("{HEAD}files:\n  - path: etc/link\n    symlink: \"a\\e[2Jb\"\n"),
        &["files[0].symlink", "'\\u{1b}'"],
    );
}

#[test]
fn references_between_entries() {
    rejects(
        &service("    uid: nobody-here\n"),
        &["services[0].uid", "no container is named"],
    );
    rejects(
        &service("    binds: [\"data:/data\"]\n"),
        &["neither an absolute path nor a volume"],
    );
    rejects(
        &format!(
            "{HEAD}onboot:\n  - name: a\n    image: x:1\n  - name: a\n    image: y:1\nservices:\n  - name: s\n    image: z:1\n    uid: a\n"
        ),
        &["services[0].uid", "ambiguous"],
    );
}

#[test]
fn bad_image_references() {
    rejects(
        &service("").replace("alpine:3.20", "\"Alpine Linux\""),
        &["services[0].image", "not a valid image reference"],
    );
    rejects(
        &format!("{HEAD}onboot:\n  - name: x\n    image: \"@pkg:./no/such/pkg\"\n"),
        &["@pkg:./no/such/pkg", "package folder"],
    );
    rejects("kernel:\n  image: \"oci:\"\n", &["kernel.image", "names no directory"]);
}

#[test]
fn empty_garbage_and_huge_files() {
    rejects("", &["the file is empty"]);
    rejects("   \n\n", &["the file is empty"]);
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let file = write(dir.path(), "garbage.yml", &garbage);
    sealkit()
        .arg("config")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("garbage.yml").and(predicate::str::contains("panicked").not()));
    let big = dir.path().join("big.yml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(100 << 20).unwrap();
    sealkit()
        .arg("config")
        .arg(&big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than 4 MiB"));
    sealkit()
        .arg("config")
        .arg(dir.path().join("missing.yml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read").and(predicate::str::contains("missing.yml")));
}

#[test]
fn hostile_yaml_is_bounded() {
    // "Billion laughs": each level doubles the size of the last.
    let mut bomb = String::from("a0: &a0 [x, x]\n");
    for i in 1..40 {
        bomb.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
    }
    rejects(&bomb, &["bad.yml"]);
    let deep = format!("onboot: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    rejects(&deep, &["bad.yml"]);
    // The YAML library's own words (its function names, its budget counters) never reach people.
    rejects(
        &format!("{HEAD}---\n{HEAD}"),
        &[
            "error[yaml-syntax]",
            "more than one YAML document",
            "pass several files",
        ],
    );
    let mut aliases = format!(
        "{HEAD}files:\n  - path: a\n    contents: &a \"{}\"\n",
        "x".repeat(1 << 20)
    );
    for i in 0..900 {
        aliases.push_str(&format!("  - path: b{i}\n    contents: *a\n"));
    }
    rejects(
        &aliases,
        &["error[yaml-syntax]", "far beyond what a configuration needs"],
    );
    for yaml in [format!("{HEAD}---\n{HEAD}"), aliases] {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "bad.yml", yaml.as_bytes());
        let out = sealkit().arg("config").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        for internal in ["from_str", "budget", "Budget", "ScalarBytes", "{"] {
            assert!(!stderr.contains(internal), "{internal:?} leaks into:\n{stderr}");
        }
    }
}

#[test]
fn trust_is_accepted_with_a_loud_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "trust.yml",
        format!("{HEAD}trust:\n  org: [linuxkit]\n").as_bytes(),
    );
    sealkit()
        .arg("config")
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning:").and(predicate::str::contains("deprecated and IGNORED")));
}

#[test]
fn several_files_merge_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yml",
        format!("{HEAD}services:\n  - name: a\n    image: x:1\n").as_bytes(),
    );
    let b = write(
        dir.path(),
        "b.yml",
        b"kernel:\n  image: linuxkit/kernel:7\n  cmdline: quiet\nservices:\n  - name: b\n    image: y:1\n",
    );
    let out = sealkit()
        .arg("config")
        .arg(&a)
        .arg(&b)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let merged: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(merged["kernel"]["image"], "linuxkit/kernel:7");
    assert_eq!(merged["kernel"]["cmdline"], "quiet");
    assert_eq!(merged["services"][0]["name"], "a");
    assert_eq!(merged["services"][1]["name"], "b");
    // A service name repeated across files is still a duplicate, reported in the second file.
    let c = write(dir.path(), "c.yml", b"services:\n  - name: a\n    image: z:1\n");
    sealkit()
        .arg("config")
        .arg(&a)
        .arg(&c)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("c.yml:2:11"));
}

#[test]
fn effective_config_with_a_label_dir() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg/web");
    std::fs::create_dir_all(&pkg).unwrap();
    write(&pkg, "build.yml", b"image: web\norg: acme\nconfig:\n  capabilities: [CAP_NET_BIND_SERVICE]\n  binds: [\"/etc/web:/etc/web:ro\"]\n");
    let file = write(
        dir.path(),
        "web.yml",
        b"services:\n  - name: web\n    image: acme/web:1\n    capabilities.add: [CAP_NET_BIND_SERVICE, CAP_CHOWN]\n",
    );
    let out = sealkit()
        .args(["config", "--effective", "--label-dir"])
        .arg(dir.path().join("pkg"))
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let web = &doc["components"][0];
    assert!(web["label_source"].as_str().unwrap().ends_with("pkg/web/build.yml"));
    // capabilities.add joins the label's list, without repeating CAP_NET_BIND_SERVICE.
    assert_eq!(
        web["config"]["process"]["capabilities"]["effective"],
        serde_json::json!(["CAP_NET_BIND_SERVICE", "CAP_CHOWN"])
    );
    let bind = web["config"]["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == "/etc/web")
        .unwrap();
    assert_eq!(bind["options"], serde_json::json!(["ro", "rbind"]));
    assert_eq!(web["path"], "containers/services/web");

    // A bad label is reported against its build.yml.
    write(&pkg, "build.yml", b"image: web\nconfig:\n  capabilities: [CAP_BOGUS]\n");
    sealkit()
        .args(["config", "--effective", "--label-dir"])
        .arg(dir.path().join("pkg"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("build.yml:3:18").and(predicate::str::contains("CAP_BOGUS")));
}

#[test]
fn pkg_templates_resolve_to_the_git_tree_hash() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    std::fs::create_dir_all(dir.path().join("pkg/web")).unwrap();
    write(&dir.path().join("pkg/web"), "build.yml", b"image: web\norg: acme\n");
    let file = write(
        dir.path(),
        "t.yml",
        b"services:\n  - name: web\n    image: \"@pkg:./pkg/web\"\n",
    );
    git(&["add", "."]);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]);
    let tree = std::process::Command::new("git")
        .arg("-C")
        .arg(dir.path())
        .args(["rev-parse", "HEAD:pkg/web"])
        .output()
        .unwrap();
    let tree = String::from_utf8(tree.stdout).unwrap().trim().to_owned();
    let out = sealkit()
        .arg("config")
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["services"][0]["image"], format!("acme/web:{tree}"));
    // An uncommitted change marks the tag dirty, as `linuxkit pkg show-tag` does.
    write(&dir.path().join("pkg/web"), "Dockerfile", b"FROM scratch\n");
    let out = sealkit()
        .arg("config")
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["services"][0]["image"], format!("acme/web:{tree}-dirty"));
}

#[test]
fn every_command_is_listed() {
    sealkit()
        .args(["gate", "examples/demo.yml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key"));
    let help = sealkit().arg("--help").assert().success().get_output().stdout.clone();
    let help = String::from_utf8(help).unwrap();
    for command in [
        "build", "scan", "sbom", "check", "gate", "sign", "attest", "verify", "keygen", "image", "config",
    ] {
        assert!(help.contains(&format!("  {command} ")), "{command} missing from --help");
    }
    sealkit().arg("--bogus").assert().code(2);
}

/// Each error draws the line it is about, as rustc and cargo-deny do: the file and position,
/// the line itself, and the offending token underlined.
#[test]
fn an_error_draws_its_line_with_the_token_underlined() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.yml",
        b"kernel:\n  image: linuxkit/kernel:6.12.59\n  cmdlin: \"console=ttyS0\"\ninit:\n  - linuxkit/init:v1\n",
    );
    let out = sealkit().arg("config").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = said.lines().collect();
    assert!(said.contains(&format!("--> {}:3:3", file.display())), "{said}");
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("3 |"))
        .unwrap_or_else(|| panic!("no line 3 drawn: {said}"));
    assert!(lines[at].ends_with("|   cmdlin: \"console=ttyS0\""), "{said}");
    // The key, and only the key, underlined: under its six letters.
    let underline = lines[at + 1];
    let carets = underline.find('^').unwrap();
    assert_eq!(&underline[carets..], "^^^^^^", "{said}");
    assert_eq!(carets, lines[at].find("cmdlin").unwrap(), "{said}");
}
