//! Every LinuxKit configuration of the corpus (../shared/linuxkit-examples), built with stand-in
//! images, has the layout LinuxKit's `Build` gives the same inputs (moby/build/build.go and
//! image.go, v1.8.2, read line by line; LinuxKit itself cannot run here: it needs Go 1.24): the
//! kernel's parts at boot/ and its modules at /, one bundle per container with the effective
//! config.json and runtime.json, each image unpacked once, volume folders, every files entry.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

mod common;

use common::{E, corpus_files, corpus_root, layer, layout};
use sealkit::build::{self, Format, Request};
use sealkit::config;
use sealkit::effective::oci::to_go_json;
use sealkit::image::lock::Resolver;
use sealkit::image::{ImageRef, Platform, Store};
use sealkit::plan::{self, Plan, PlanOptions};

/// One stand-in for every image: a kernel (bzImage stand-in, modules tarball, microcode) and a
/// root with a program, an /etc and a hard link, so bundles, dedup and links all show.
fn stand_in(dir: &Path) -> String {
    let mut modules = tar::Builder::new(Vec::new());
    for (path, body) in [
        ("lib/modules/6.0.0/kernel/fs/foo.ko", &b"module"[..]),
        ("lib/modules/6.0.0/modules.dep", b""),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(body.len() as u64);
        modules.append_data(&mut h, path, body).unwrap();
    }
    let modules = modules.into_inner().unwrap();
    layout(
        dir,
        &[layer(&[
            E::File("kernel", 0o644, b"bzImage"),
            E::File("kernel.tar", 0o644, &modules),
            E::File("intel-ucode.cpio", 0o644, b"ucode"),
            E::Dir("bin", 0o755),
            E::File("bin/app", 0o755, b"#!/bin/sh\n"),
            E::Hardlink("bin/app-link", "bin/app"),
            E::Dir("etc", 0o755),
            E::File("etc/hostname", 0o644, b"dropped\n"),
        ])],
        true,
    )
}

fn references(config: &config::model::Config) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    if let Some(i) = config.kernel.as_ref().and_then(|k| k.image.as_ref()) {
        refs.insert(i.value.clone());
    }
    refs.extend(config.init.iter().flatten().map(|i| i.value.clone()));
    for list in [&config.onboot, &config.onshutdown, &config.services] {
        refs.extend(
            list.iter()
                .flatten()
                .filter_map(|e| e.value.image.as_ref().map(|i| i.value.clone())),
        );
    }
    refs.extend(
        config
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| v.value.image.as_ref().map(|i| i.value.clone())),
    );
    refs
}

fn tar_tree(path: &Path) -> BTreeMap<String, (tar::EntryType, u32, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut out = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().trim_end_matches('/').to_owned();
        let (kind, mode) = (entry.header().entry_type(), entry.header().mode().unwrap());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        assert!(
            out.insert(name.clone(), (kind, mode, data)).is_none(),
            "{name} written twice"
        );
    }
    out
}

/// Why a corpus file cannot be built here, when it cannot.
fn expected_failures() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        // Rejected at parse time (tests/corpus.rs says why).
        (
            "test/cases/000_build/091_validate_linuxkit_yaml/linuxkit.yml",
            "unknown field",
        ),
        ("examples/static-ip.yml", "did not find expected key"),
        ("linuxkit-template.yml", "@pkg:"),
        (
            "test/cases/000_build/070_volumes/002_rw_on_ro/test.yml",
            "read-only but is bound read-write",
        ),
        (
            "test/cases/000_build/056_build_args/010_build_arg_special_multiple_yaml/build-file.yml",
            "unknown field",
        ),
        ("test/cases/000_build/080_mirrors/config.yml", "unknown field"),
    ])
}

#[test]
fn every_corpus_configuration_builds_in_linuxkits_layout() {
    let root = corpus_root();
    let files = corpus_files(&root);
    let tmp = tempfile::tempdir().unwrap();
    let source = stand_in(&tmp.path().join("stand-in"));
    let source: ImageRef = source.parse().unwrap();
    let store = Store::open(&tmp.path().join("store")).unwrap();
    let platform = Platform::default();
    let mut imported = BTreeSet::new();
    let expected = expected_failures();
    let (mut built, mut failed) = (0, BTreeMap::new());
    // No ~/.ssh/id_rsa.pub: the `optional: true` entries that name it are skipped, as LinuxKit does.
    unsafe { std::env::set_var("HOME", tmp.path().join("home")) };

    for file in &files {
        let name = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        // A copy beside stand-ins for the host files it names (the corpus holds YAML only).
        let work = tmp.path().join("work").join(&name);
        std::fs::create_dir_all(&work).unwrap();
        let copy = work.join(file.file_name().unwrap());
        std::fs::copy(file, &copy).unwrap();
        let loaded = match config::load(std::slice::from_ref(&copy)) {
            Ok(loaded) => loaded,
            Err(e) => {
                failed.insert(name, e.to_string());
                continue;
            }
        };
        for f in loaded.config.files.iter().flatten() {
            if let Some(src) = f
                .value
                .source
                .as_ref()
                .filter(|s| !s.starts_with('~') && !s.starts_with('/'))
            {
                std::fs::write(work.join(src), format!("stand-in for {src}\n")).unwrap();
            }
        }
        for reference in references(&loaded.config) {
            if imported.insert(reference.clone()) {
                let tag: ImageRef = reference.parse().unwrap();
                sealkit::image::import(&store, &source, &tag.to_string(), &platform).unwrap();
            }
        }
        let resolver = Resolver {
            store: store.clone(),
            platform: platform.clone(),
            options: Default::default(),
            lock: None,
            pull: false,
        };
        let out = work.join("out");
        let request = Request {
            output: &out,
            name: "image",
            formats: &[Format::Tar],
            force: false,
            sbom: Some(Default::default()),
            epoch: sealkit::epoch::LINUXKIT_BUILD_TIME,
            uki_stub: None,
            uki_signer: None,
            verity: false,
            presigned_uki: None,
            progress: &sealkit::progress::Silent,
        };
        let built_plan = plan::plan(&loaded, &resolver, &PlanOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|plan| {
                build::build(&loaded, &plan, &store, &request)
                    .map(|_| plan)
                    .map_err(|e| e.to_string())
            });
        let plan = match built_plan {
            Ok(plan) => plan,
            Err(e) => {
                failed.insert(name, e);
                continue;
            }
        };
        built += 1;
        check_layout(&name, &loaded, &plan, &tar_tree(&out.join("image.tar")));
    }

    for (name, error) in &failed {
        let reason = expected
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} failed: {error}"));
        assert!(error.contains(reason), "{name}: expected {reason:?}, got: {error}");
    }
    for name in expected.keys() {
        assert!(failed.contains_key(*name), "{name} was expected to fail, and built");
    }
    assert_eq!(built + failed.len(), files.len());
    assert!(built >= 170, "{built} of {} built", files.len());
    eprintln!(
        "{built} corpus configurations built, {} refused as expected",
        failed.len()
    );
}

fn check_layout(
    name: &str,
    loaded: &config::Loaded,
    plan: &Plan,
    tree: &BTreeMap<String, (tar::EntryType, u32, Vec<u8>)>,
) {
    use tar::EntryType::{Directory, Link, Regular, Symlink};
    let has = |path: &str, kind: tar::EntryType| {
        assert_eq!(tree.get(path).map(|e| e.0), Some(kind), "{name}: {path}");
    };
    let config = &loaded.config;
    if let Some(kernel) = &config.kernel {
        has("boot/kernel", Regular);
        assert_eq!(tree["boot/kernel"].2, b"bzImage", "{name}");
        assert_eq!(
            tree["boot/cmdline"].2,
            kernel.cmdline.clone().unwrap_or_default().as_bytes(),
            "{name}"
        );
        let modules = !matches!(kernel.tar.as_deref(), Some("none" | ""));
        assert_eq!(
            tree.contains_key("lib/modules/6.0.0/kernel/fs/foo.ko"),
            modules,
            "{name}: modules"
        );
        let ucode = kernel.ucode.as_deref().is_some_and(|u| !u.is_empty());
        assert_eq!(tree.contains_key("boot/ucode.cpio"), ucode, "{name}: ucode");
    }
    if config.init.iter().flatten().next().is_some() {
        has("bin/app", Regular);
        has("etc/resolv.conf", Symlink);
        has("etc/mtab", Symlink);
        assert!(!tree.contains_key("etc/hostname"), "{name}: etc/hostname is dropped");
    }
    let mut unpacked = BTreeSet::new();
    for c in &plan.containers {
        let path = &c.path;
        let expected_config = to_go_json(&c.config).unwrap();
        assert_eq!(
            tree[&format!("{path}/config.json")].2,
            expected_config,
            "{name}: {path}/config.json"
        );
        assert_eq!(
            tree[&format!("{path}/runtime.json")].2,
            to_go_json(&c.runtime).unwrap(),
            "{name}: {path}/runtime.json"
        );
        let readonly = c.config.root.readonly;
        has(&format!("{path}/rootfs"), Directory);
        if !readonly {
            has(&format!("{path}/tmp"), Directory);
        }
        let key: ImageRef = c.image.parse().unwrap();
        let root = format!("{path}/{}", if readonly { "rootfs" } else { "lower" });
        if unpacked.insert(key.to_string()) {
            has(&format!("{root}/bin/app"), Regular);
            has(&format!("{root}/bin/app-link"), Link);
            has(&format!("{root}/etc/hosts"), Regular);
            assert_eq!(
                tree[&format!("{root}/etc/resolv.conf")].2,
                b"\n# no resolv.conf configured\n"
            );
            has(&format!("{root}/proc"), Directory);
        } else {
            assert!(
                !tree.contains_key(&format!("{root}/bin/app")),
                "{name}: {} is unpacked once",
                c.image
            );
        }
    }
    for v in config.volumes.iter().flatten() {
        let volume = v.value.name.as_ref().unwrap();
        for dir in ["lower", "tmp", "merged"] {
            has(&format!("containers/volumes/{}/{dir}", volume.value), Directory);
        }
    }
    for f in config.files.iter().flatten() {
        let f = &f.value;
        let path = f
            .path
            .as_ref()
            .unwrap()
            .value
            .trim_start_matches('/')
            .trim_end_matches('/');
        if f.source.as_deref().is_some_and(|s| s.starts_with('~')) && f.optional == Some(true) {
            continue;
        }
        let kind = if f.directory == Some(true) {
            Directory
        } else if f.symlink.is_some() {
            Symlink
        } else {
            Regular
        };
        has(path, kind);
        if let Some(mode) = &f.mode {
            assert_eq!(
                tree[path].1,
                u32::from_str_radix(&mode.value, 8).unwrap(),
                "{name}: {path} mode"
            );
        }
        if let Some(contents) = &f.contents {
            assert_eq!(tree[path].2, contents.as_bytes(), "{name}: {path}");
        }
    }
    has("sbom.spdx.json", Regular);
}
