//! The external corpus: 183 real LinuxKit YAML files and the build.yml of LinuxKit's 42 packages
//! (../shared/linuxkit-examples, see its README). Every file gets the outcome LinuxKit gives it,
//! and the effective config of every example is computed with the packages' labels.

use std::collections::BTreeMap;
use std::path::Path;

mod common;

use common::{corpus_files, corpus_root};
use sealkit::config;
use sealkit::config::label::LabelDir;
use sealkit::effective::{self, Component, ImageFacts};

/// The files that must be rejected, with what the error must say. Anything else must load.
fn expected_failures() -> BTreeMap<&'static str, (&'static str, u64)> {
    BTreeMap::from([
        // LinuxKit's own negative test: an unknown top-level field.
        (
            "test/cases/000_build/091_validate_linuxkit_yaml/linuxkit.yml",
            ("unknown field `unknownField`", 1),
        ),
        // A comment at column 0 inside a block scalar ends the scalar (YAML 1.2 §8.1.1.2, l-trail-comments);
        // the indented line after it is then a syntax error. yaml.v3 is lenient here; the spec is not.
        ("examples/static-ip.yml", ("did not find expected key", 28)),
        // @pkg: templates need the package folders in a git checkout (their tag is the tree hash).
        ("linuxkit-template.yml", ("@pkg:./pkg/init", 5)),
        // LinuxKit's test expects this build to fail: a read-only volume bound read-write. LinuxKit
        // finds out at build time; sealkit at parse time.
        (
            "test/cases/000_build/070_volumes/002_rw_on_ro/test.yml",
            ("read-only but is bound read-write", 12),
        ),
        // Not LinuxKit configurations: a package build file and a registry mirror config.
        (
            "test/cases/000_build/056_build_args/010_build_arg_special_multiple_yaml/build-file.yml",
            ("unknown field `org`", 1),
        ),
        (
            "test/cases/000_build/080_mirrors/config.yml",
            ("unknown field `version`", 1),
        ),
    ])
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_corpus_file_gets_linuxkits_outcome() {
    let root = corpus_root();
    let files = corpus_files(&root);
    assert_eq!(files.len(), 183, "the corpus README promises 183 LinuxKit YAML files");
    let expected = expected_failures();
    let mut loaded = 0;
    for file in &files {
        let rel = relative(&root, file);
        match (config::load(&[file]), expected.get(rel.as_str())) {
            (Ok(_), None) => loaded += 1,
            (Ok(_), Some((why, _))) => panic!("{rel} loaded, but it must fail with {why:?}"),
            (Err(e), None) => panic!("{rel} must load:\n{e}"),
            (Err(e), Some((why, line))) => {
                let first = e
                    .diagnostics()
                    .first()
                    .unwrap_or_else(|| panic!("{rel}: no diagnostic in {e}"));
                assert!(first.message.contains(why), "{rel}: expected {why:?}, got {first}");
                assert_eq!(first.line, *line, "{rel}: wrong line in {first}");
                assert!(first.column > 0, "{rel}: no column in {first}");
                assert!(first.hint.is_some(), "{rel}: no hint in {first}");
            }
        }
    }
    assert_eq!(loaded, 183 - expected.len());
}

#[test]
fn every_package_label_loads() {
    let labels = LabelDir::load(&corpus_root().join("pkg")).unwrap();
    assert_eq!(labels.len(), 42);
}

fn effective_of(file: &Path, labels: &LabelDir) -> Vec<Component> {
    let loaded = config::load(&[file]).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let facts = |image: &str, _: &Path| {
        Ok(ImageFacts {
            label: labels.find_text(image).cloned(),
            defaults: None,
        })
    };
    effective::compute(&loaded, &facts).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn component<'a>(components: &'a [Component], name: &str) -> &'a Component {
    components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn mount_sources(c: &Component) -> BTreeMap<String, String> {
    c.config
        .mounts
        .iter()
        .map(|m| (m.destination.clone(), m.source.clone()))
        .collect()
}

#[test]
fn effective_config_of_every_example() {
    let root = corpus_root();
    let labels = LabelDir::load(&root.join("pkg")).unwrap();
    let expected = expected_failures();
    let mut components = 0;
    let mut labelled = 0;
    for file in corpus_files(&root) {
        if expected.contains_key(relative(&root, &file).as_str()) {
            continue;
        }
        let list = effective_of(&file, &labels);
        for (i, c) in list.iter().enumerate() {
            // LinuxKit allocates ids 100, 101, … in onboot, onshutdown, services order.
            assert_eq!(c.uid, 100 + i as u32, "{}: {}", file.display(), c.name);
            assert_eq!(
                c.config.linux.namespaces.last().map(|n| n.kind),
                Some(effective::oci::NamespaceKind::Mount)
            );
            let json = effective::oci::to_go_json(&c.config).unwrap();
            assert!(json.starts_with(b"{\n    \"ociVersion\": \"1.2.1\""));
        }
        for c in &list {
            // Every image of a LinuxKit package in pkg/ finds that package's label.
            let package = c.image.strip_prefix("linuxkit/").and_then(|i| i.split(':').next());
            if package.is_some_and(|p| root.join("pkg").join(p).join("build.yml").is_file()) {
                assert!(c.label_source.is_some(), "{}: {} has no label", file.display(), c.image);
                labelled += 1;
            }
        }
        components += list.len();
    }
    assert!(components > 500, "only {components} components");
    assert!(labelled > 350, "only {labelled} components are LinuxKit packages");
}

#[test]
fn getty_gets_every_capability_and_the_host_pid_and_net() {
    let root = corpus_root();
    let labels = LabelDir::load(&root.join("pkg")).unwrap();
    let list = effective_of(&root.join("examples/getty.yml"), &labels);
    let getty = component(&list, "getty");
    let caps = &getty.config.process.capabilities;
    // `capabilities: [all]` expands to every capability in kernel order (effective) and sorted
    // (bounding, inheritable, permitted): config.go ConfigToOCI.
    assert_eq!(caps.effective, sealkit::caps::ALL.map(String::from).to_vec());
    let mut sorted = caps.effective.clone();
    sorted.sort();
    assert_eq!(caps.bounding, sorted);
    assert_eq!(caps.permitted, sorted);
    // pid: host and net: host from the label; ipc, uts and user default to the host: only mnt is new.
    let kinds: Vec<_> = getty.config.linux.namespaces.iter().map(|n| n.kind).collect();
    assert_eq!(kinds, [effective::oci::NamespaceKind::Mount]);
    // The example leaves INSECURE=true commented out, and no image config is read: no env.
    assert!(getty.config.process.env.is_empty());
    assert_eq!(getty.config.linux.devices.len(), 5);
    assert!(getty.config.linux.devices.iter().all(|d| d.file_mode == 0o666));
}

#[test]
fn sshd_binds_add_appends_to_the_label_binds() {
    let root = corpus_root();
    let labels = LabelDir::load(&root.join("pkg")).unwrap();
    let list = effective_of(&root.join("examples/sshd.yml"), &labels);
    let sshd = component(&list, "sshd");
    let mounts = mount_sources(sshd);
    assert_eq!(
        mounts.get("/root/.ssh").map(String::as_str),
        Some("/root/.ssh"),
        "the YAML's binds.add"
    );
    for label_bind in [
        "/etc/resolv.conf",
        "/run",
        "/tmp",
        "/hostroot/etc",
        "/containers",
        "/dev",
        "/sys",
    ] {
        assert!(mounts.contains_key(label_bind), "label bind {label_bind} kept");
    }
    // devices: all (type a) becomes a cgroup rule, not a device node.
    assert!(sshd.config.linux.devices.is_empty());
    assert_eq!(sshd.config.linux.resources.devices[0].kind.as_deref(), Some("a"));
}

#[test]
fn binds_add_keeps_the_label_binds() {
    let root = corpus_root();
    let labels = LabelDir::load(&root.join("pkg")).unwrap();
    let list = effective_of(&root.join("examples/addbinds.yml"), &labels);
    let mounts = mount_sources(component(&list, "getty"));
    assert_eq!(mounts.get("/var/tmp").map(String::as_str), Some("/var/tmp"));
    assert!(mounts.contains_key("/dev") && mounts.contains_key("/hostroot/etc"));
}

/// The privileges fact, across the whole corpus: every getty and sshd from LinuxKit's packages
/// really holds every capability, the host's pid namespace and writable binds of /dev and /sys
/// (their labels grant them); and services that say nothing of capabilities hold none of the
/// root-equivalent ones.
#[test]
fn corpus_privileges_show_what_the_labels_grant() {
    use sealkit::inspect::hardening::privileges;
    let root = corpus_root();
    let labels = LabelDir::load(&root.join("pkg")).unwrap();
    let expected = expected_failures();
    let mut seen = BTreeMap::<String, usize>::new();
    for file in corpus_files(&root) {
        if expected.contains_key(relative(&root, &file).as_str()) {
            continue;
        }
        for c in effective_of(&file, &labels) {
            let package = c.image.strip_prefix("linuxkit/").and_then(|i| i.split(':').next());
            let Some(name @ ("getty" | "sshd")) = package else {
                continue;
            };
            if c.label_source.is_none() {
                continue;
            }
            let p = privileges(&c);
            let at = format!("{}: {}", file.display(), c.name);
            // A YAML entry may override the label's list; the corpus's do not.
            assert!(p.all_capabilities, "{at}: {:?}", p.capabilities);
            assert!(p.host_namespaces.iter().any(|n| n == "pid"), "{at}");
            for host in ["/dev", "/sys"] {
                let bind = p
                    .binds
                    .iter()
                    .find(|b| b.source == host)
                    .unwrap_or_else(|| panic!("{at}: {host}"));
                assert!(bind.writable && bind.sensitive.is_some(), "{at}: {bind:?}");
            }
            *seen.entry(name.to_owned()).or_default() += 1;
        }
    }
    // The corpus is fixed data (commit 3bf33c3a1): every use of the two packages is counted.
    assert_eq!(seen, BTreeMap::from([("getty".to_owned(), 31), ("sshd".to_owned(), 9)]));
}
