//! `sealkit build`: the demo image in LinuxKit's layout (tar, kernel+initrd, tar-kernel-initrd),
//! the same bytes whatever the umask, locale, time zone, user, thread count, folder or store
//! order, and bad input refused with nothing left behind. The boot under qemu is tests/boot.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

mod common;

use common::{DEMO_IMAGES as IMAGES, E, demo, layer, layout, sealkit, sha256};

const EPOCH: u64 = 1_492_533_000;

struct Member {
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    mtime: u64,
    link: Option<String>,
    data: Vec<u8>,
    pax: BTreeMap<String, String>,
}

/// Every member of a tar, in order (names may repeat: the test checks they do not).
fn members(bytes: &[u8]) -> Vec<(String, Member)> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let pax = entry
            .pax_extensions()
            .unwrap()
            .map(|exts| {
                exts.map(|e| {
                    let e = e.unwrap();
                    (e.key().unwrap().to_owned(), e.value().unwrap_or("").to_owned())
                })
                .collect()
            })
            .unwrap_or_default();
        let name = entry.path().unwrap().to_string_lossy().trim_end_matches('/').to_owned();
        let h = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.push((
            name,
            Member {
                kind: h.entry_type(),
                mode: h.mode().unwrap(),
                uid: h.uid().unwrap(),
                mtime: h.mtime().unwrap(),
                link: entry.link_name().unwrap().map(|l| l.to_string_lossy().into_owned()),
                data,
                pax,
            },
        ));
    }
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

/// (name, mode, ino, nlink, data) of every cpio member.
fn cpio_members(bytes: &[u8]) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    loop {
        let mut reader = cpio::NewcReader::new(rest).unwrap();
        let e = reader.entry();
        if e.is_trailer() {
            return out;
        }
        let (name, mode, ino, nlink) = (e.name().to_owned(), e.mode(), e.ino(), e.nlink());
        let mut data = Vec::new();
        reader.read_to_end(&mut data).unwrap();
        out.push((name, mode, ino, nlink, data));
        rest = reader.finish().unwrap();
    }
}

fn output_hashes(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                sha256(&std::fs::read(e.path()).unwrap()),
            )
        })
        .collect()
}

const ALL_FORMATS: [&str; 8] = [
    "--format",
    "kernel+initrd",
    "--format",
    "tar",
    "--format",
    "tar-kernel-initrd",
    "--format",
    "iso-efi",
];

#[test]
fn demo_is_laid_out_as_linuxkit_does() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = demo(tmp.path(), &IMAGES) else {
        return;
    };
    let out = tmp.path().join("out");
    sealkit(&store)
        .arg("build")
        .arg(&config)
        .arg("-o")
        .arg(&out)
        .args(ALL_FORMATS)
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .success();
    let files: BTreeSet<String> = output_hashes(&out).into_keys().collect();
    assert_eq!(
        files,
        BTreeSet::from(
            [
                "demo-cmdline",
                "demo-efi.iso",
                "demo-initrd.img",
                "demo-initrd.tar",
                "demo-kernel",
                "demo.tar"
            ]
            .map(String::from)
        ),
        "the outputs and nothing else (no staging folder, no spool)"
    );

    let tar = std::fs::read(out.join("demo.tar")).unwrap();
    let list = members(&tar);
    let names: Vec<&String> = list.iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "entries are in path order and each path is written once");
    let tree: BTreeMap<&str, &Member> = list.iter().map(|(n, m)| (n.as_str(), m)).collect();
    for (name, m) in &list {
        assert!(
            m.pax.contains_key("LINUXKIT.source") && m.pax.contains_key("LINUXKIT.location"),
            "{name} lacks LinuxKit's PAX records"
        );
        assert!(
            m.mtime <= EPOCH,
            "{name}: mtime {} is later than SOURCE_DATE_EPOCH",
            m.mtime
        );
        let parent = Path::new(name).parent().unwrap().to_string_lossy().into_owned();
        if !parent.is_empty() {
            assert_eq!(
                tree[parent.as_str()].kind,
                tar::EntryType::Directory,
                "{name}: parent is a folder"
            );
        }
    }

    // The kernel image: binary and cmdline at boot/, the modules tarball unpacked at /.
    assert_eq!(
        tree["boot/kernel"].data,
        std::fs::read(out.join("demo-kernel")).unwrap()
    );
    assert_eq!(tree["boot/cmdline"].data, b"console=ttyS0 panic=-1");
    assert_eq!(
        std::fs::read(out.join("demo-cmdline")).unwrap(),
        b"console=ttyS0 panic=-1"
    );
    let modules: Vec<_> = list
        .iter()
        .filter(|(n, _)| n.starts_with("lib/modules/") && n.ends_with(".ko") || n.ends_with(".ko.xz"))
        .collect();
    assert!(!modules.is_empty(), "kernel.tar's modules are at /lib/modules");
    assert!(modules.iter().all(|(_, m)| m.pax["LINUXKIT.location"] == "kernel"));
    assert!(!tree.contains_key("kernel.tar") && !tree.contains_key("kernel"));

    // The init image at /, with LinuxKit's replace and touch lists.
    assert_eq!(tree["init"].pax["LINUXKIT.location"], "init[0]");
    assert_eq!(tree["etc/init.d/010-onboot"].mode & 0o111, 0o111);
    assert_eq!(
        tree["etc/resolv.conf"].link.as_deref(),
        Some("/run/resolvconf/resolv.conf")
    );
    assert!(tree["etc/hosts"].data.starts_with(b"127.0.0.1       localhost\n"));
    assert_eq!(tree["etc/mtab"].link.as_deref(), Some("/proc/mounts"));
    for dir in ["dev", "dev/pts", "dev/shm", "proc", "sys", "etc"] {
        assert_eq!(tree[dir].kind, tar::EntryType::Directory, "{dir}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("dev/console") || n.ends_with("etc/hostname"))
    );

    // Bundles: config.json is the effective config, runtime.json LinuxKit's; lower/ and tmp/.
    let effective: serde_json::Value = serde_json::from_slice(
        &sealkit(&store)
            .args(["config", "--effective"])
            .arg(&config)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let components = effective["components"].as_array().unwrap();
    assert_eq!(components.len(), 4);
    for c in components {
        let path = c["path"].as_str().unwrap();
        let config: serde_json::Value =
            serde_json::from_slice(&tree[format!("{path}/config.json").as_str()].data).unwrap();
        assert_eq!(config, c["config"], "{path}/config.json");
        let runtime: serde_json::Value =
            serde_json::from_slice(&tree[format!("{path}/runtime.json").as_str()].data).unwrap();
        assert_eq!(runtime, c["runtime"], "{path}/runtime.json");
        let readonly = c["config"]["root"]["readonly"] == true;
        let root = if readonly { "rootfs" } else { "lower" };
        let mut dirs = vec![
            "rootfs".to_owned(),
            format!("{root}/etc"),
            format!("{root}/proc"),
            format!("{root}/dev/pts"),
        ];
        if !readonly {
            dirs.extend(["lower".to_owned(), "tmp".to_owned()]);
        }
        for dir in dirs {
            let entry = tree.get(format!("{path}/{dir}").as_str());
            assert_eq!(entry.map(|e| e.kind), Some(tar::EntryType::Directory), "{path}/{dir}");
        }
        let resolv = tree[format!("{path}/{root}/etc/resolv.conf").as_str()];
        assert_eq!(
            resolv.data, b"\n# no resolv.conf configured\n",
            "containers get the stub"
        );
        assert_eq!(resolv.pax["LINUXKIT.source"], c["image"].as_str().unwrap());
    }
    assert_eq!(
        tree["containers/onboot/000-selftest/lower/usr/bin/selftest"].pax["LINUXKIT.location"],
        "onboot[0]"
    );

    // The files section: modes as written, and existing parents untouched (/etc stays 0755).
    assert_eq!(tree["etc/getty.shadow"].mode, 0o600);
    assert_eq!(tree["etc/getty.shadow"].pax["LINUXKIT.location"], "files[0]");
    assert_eq!(tree["etc/motd"].data, b"Built by sealkit, verified before boot.\n");
    assert_eq!(tree["etc"].mode, 0o755);
    assert_eq!(tree["etc"].pax["LINUXKIT.location"], "init[0]");
    assert_eq!((tree["root/.ssh"].mode, tree["root/.ssh"].uid), (0o700, 0));

    // The SBOM of every image, at /sbom.spdx.json.
    let sbom: serde_json::Value = serde_json::from_slice(&tree["sbom.spdx.json"].data).unwrap();
    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    assert_eq!(sbom["name"], "demo");
    assert!(sbom["packages"].as_array().unwrap().len() > 40);
    assert!(
        sbom["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["fileName"] == "./containers/services/sshd/lower/usr/sbin/sshd")
    );

    // The initramfs: gzip with no name and no mtime, holding the same tree minus boot/*.
    let initrd = std::fs::read(out.join("demo-initrd.img")).unwrap();
    assert_eq!(&initrd[..4], &[0x1f, 0x8b, 8, 0], "gzip, no FNAME");
    assert_eq!(&initrd[4..8], &[0, 0, 0, 0], "gzip mtime 0");
    let cpio = cpio_members(&gunzip(&initrd));
    let cpio_names: Vec<&str> = cpio.iter().map(|(n, ..)| n.as_str()).collect();
    let expected: Vec<&str> = names
        .iter()
        .map(|n| n.as_str())
        .filter(|n| !n.starts_with("boot/"))
        .collect();
    assert_eq!(cpio_names, expected);
    let mut by_inode: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for (name, mode, ino, nlink, data) in &cpio {
        let m = tree[name.as_str()];
        assert_eq!(mode & 0o7777, m.mode, "{name}");
        by_inode.entry(*ino).or_default().push(name);
        match m.kind {
            tar::EntryType::Regular => assert_eq!(data, &m.data, "{name}"),
            tar::EntryType::Link => assert!(*nlink > 1 && data.is_empty(), "{name}: a hard link shares its inode"),
            tar::EntryType::Symlink => assert_eq!(data, m.link.as_ref().unwrap().as_bytes(), "{name}"),
            _ => {}
        }
    }
    for (ino, paths) in &by_inode {
        let nlink = cpio.iter().find(|c| c.2 == *ino).unwrap().3;
        if paths.len() > 1 {
            assert_eq!(paths.len() as u32, nlink, "inode {ino}: {paths:?}");
        }
    }

    // tar-kernel-initrd: the same three parts in one tar.
    let bundle = members(&std::fs::read(out.join("demo-initrd.tar")).unwrap());
    let parts: Vec<&str> = bundle.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(parts, ["kernel", "initrd.img", "cmdline"]);
    assert_eq!(bundle[1].1.data, initrd);
}

/// Runs `sealkit ARGS` through `sh` with a umask, as root or as `nobody` (setpriv).
fn build_in(store: &Path, config: &Path, out: &Path, umask: &str, user: Option<u32>, env: &[(&str, &str)]) {
    let exe = assert_cmd::cargo::cargo_bin("sealkit");
    let mut cmd = std::process::Command::new("setpriv");
    match user {
        Some(uid) => cmd.args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
        ]),
        None => cmd.arg("--keep-groups"),
    };
    cmd.args([
        "sh",
        "-c",
        &format!("umask {umask} && exec \"$0\" \"$@\""),
        exe.to_str().unwrap(),
    ])
    .arg("build")
    .arg(config)
    .arg("-o")
    .arg(out)
    .args(ALL_FORMATS)
    .env("SEALKIT_STORE", store)
    .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let result = cmd.output().unwrap();
    assert!(
        result.status.success(),
        "build failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn two_builds_are_identical_whoever_and_wherever() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store_a, config_a)) = demo(&tmp.path().join("a"), &IMAGES) else {
        return;
    };
    let out_a = tmp.path().join("a/out");
    build_in(
        &store_a,
        &config_a,
        &out_a,
        "022",
        None,
        &[
            ("TZ", "UTC"),
            ("LANG", "C"),
            ("LC_ALL", "C"),
            ("RAYON_NUM_THREADS", "1"),
        ],
    );

    // Another folder, the store filled in the reverse order, another umask, locale, time zone and
    // thread count — and, when the tests run as root, an unprivileged user.
    let b = tmp.path().join("elsewhere/b");
    std::fs::create_dir_all(&b).unwrap();
    let mut reversed = IMAGES;
    reversed.reverse();
    let (store_b, config_b) = demo(&b, &reversed).unwrap();
    let out_b = b.join("out");
    let user = is_root().then_some(65534);
    if user.is_some() {
        // nobody must reach and write its folders (the store's lock file among them).
        let status = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(tmp.path().join("elsewhere"))
            .status()
            .unwrap();
        assert!(status.success());
        for dir in [tmp.path(), &tmp.path().join("elsewhere")] {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
    }
    build_in(
        &store_b,
        &config_b,
        &out_b,
        "077",
        user,
        &[
            ("TZ", "Pacific/Chatham"),
            ("LANG", "de_DE.UTF-8"),
            ("LC_ALL", "tr_TR.UTF-8"),
            ("RAYON_NUM_THREADS", "7"),
        ],
    );
    let (a, b) = (output_hashes(&out_a), output_hashes(&out_b));
    assert_eq!(a.len(), 6);
    assert_eq!(a, b, "the same inputs give the same bytes");
    let mode = std::fs::metadata(out_b.join("demo.tar")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600,
        "outputs follow the umask, as LinuxKit's do"
    );

    // SOURCE_DATE_EPOCH is the one clock: another value, other bytes.
    let out_c = tmp.path().join("a/out-epoch");
    build_in(
        &store_a,
        &config_a,
        &out_c,
        "022",
        None,
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    let c = output_hashes(&out_c);
    assert_ne!(a["demo.tar"], c["demo.tar"]);
    assert_eq!(a["demo-kernel"], c["demo-kernel"]);

    // diffoscope, a tool no one here wrote, finds a deliberate one-file difference.
    if which("diffoscope").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs diffoscope (scripts/test)"
        );
        return;
    }
    let text = std::fs::read_to_string(&config_a)
        .unwrap()
        .replace("verified before boot", "verified after boot");
    let config_d = tmp.path().join("a/config/changed.yml");
    std::fs::write(&config_d, text).unwrap();
    let out_d = tmp.path().join("a/out-changed");
    sealkit(&store_a)
        .arg("build")
        .arg(&config_d)
        .args(["--name", "demo", "--format", "tar", "-o"])
        .arg(&out_d)
        .assert()
        .success();
    let diff = std::process::Command::new("diffoscope")
        .arg("--no-progress")
        .arg(out_a.join("demo.tar"))
        .arg(out_d.join("demo.tar"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(1), "diffoscope sees a difference: {report}");
    assert!(report.contains("etc/motd") && report.contains("after boot"), "{report}");
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

/// A tiny kernel-less configuration over hand-made images, built as a tar.
fn hostile(tmp: &Path, yaml: &str) -> assert_cmd::assert::Assert {
    let config = tmp.join("x.yml");
    std::fs::write(&config, yaml).unwrap();
    let out = tmp.join("out");
    let assert = sealkit(&tmp.join("store"))
        .arg("build")
        .arg(&config)
        .args(["--format", "tar", "-o"])
        .arg(&out)
        .assert();
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    if !assert.get_output().status.success() {
        assert!(left.is_empty(), "a failed build leaves nothing behind: {left:?}");
    }
    assert
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn a_write_through_a_symlink_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // A container image whose /etc points at the host's: LinuxKit's touch list would write
    // containers/services/x/lower/etc/hosts through it, onto the host's /etc/hosts at boot.
    let escaping = layout(
        &tmp.path().join("escaping"),
        &[layer(&[
            E::Symlink("etc", "/var/lib/host-etc"),
            E::File("bin/app", 0o755, b"x"),
        ])],
        true,
    );
    let a = hostile(
        tmp.path(),
        &format!(
            "services:\n  - name: x\n    image: \"{}\"\n",
            escaping.replace(&format!("{}/", tmp.path().display()), "")
        ),
    );
    let err = stderr(&a);
    assert_eq!(a.get_output().status.code(), Some(2), "{err}");
    assert!(
        err.contains("containers/services/x/lower/etc") && err.contains("symlink"),
        "{err}"
    );

    // A merged-/usr init image, and a files entry below its /lib symlink.
    let merged = layout(
        &tmp.path().join("merged"),
        &[layer(&[
            E::Dir("usr", 0o755),
            E::Dir("usr/lib", 0o755),
            E::Symlink("lib", "usr/lib"),
        ])],
        false,
    );
    let a = hostile(
        tmp.path(),
        &format!(
            "init:\n  - \"{}\"\nfiles:\n  - path: lib/x.conf\n    contents: hi\n",
            merged.replace(&format!("{}/", tmp.path().display()), "")
        ),
    );
    let err = stderr(&a);
    assert_eq!(a.get_output().status.code(), Some(2), "{err}");
    assert!(
        err.contains("lib/x.conf") && err.contains("init[0]") && err.contains("files[0]"),
        "{err}"
    );
}

#[test]
fn bad_input_is_refused_with_nothing_left_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let image = layout(
        &tmp.path().join("image"),
        &[layer(&[E::Dir("etc", 0o755), E::File("bin/app", 0o755, b"app")])],
        true,
    );
    let image = image.replace(&format!("{}/", tmp.path().display()), "");
    let ok = format!("onboot:\n  - name: x\n    image: \"{image}\"\n");

    // Two services of one name.
    let a = hostile(
        tmp.path(),
        &format!("services:\n  - name: x\n    image: \"{image}\"\n  - name: x\n    image: \"{image}\"\n"),
    );
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(stderr(&a).contains("x"), "{}", stderr(&a));

    // A files entry climbing out of the image.
    let a = hostile(
        tmp.path(),
        &format!("{ok}files:\n  - path: ../../etc/passwd\n    contents: x\n"),
    );
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(stderr(&a).contains("files[0].path"), "{}", stderr(&a));

    // No kernel, and a format that needs one.
    let config = tmp.path().join("ok.yml");
    std::fs::write(&config, &ok).unwrap();
    let a = sealkit(&tmp.path().join("store"))
        .arg("build")
        .arg(&config)
        .arg("-o")
        .arg(tmp.path().join("nokernel"))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("no kernel image") && stderr(&a).contains("--format tar"));
    assert_eq!(std::fs::read_dir(tmp.path().join("nokernel")).unwrap().count(), 0);

    // A corrupt layer: nothing is written.
    let corrupt = layout(
        &tmp.path().join("corrupt"),
        &[layer(&[E::File("bin/app", 0o755, &[7u8; 4096])])],
        true,
    );
    let blobs = tmp.path().join("corrupt/blobs/sha256");
    let layer_blob = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read(p).unwrap().starts_with(&[0x1f, 0x8b]))
        .unwrap();
    let mut bad = std::fs::read(&layer_blob).unwrap();
    let n = bad.len();
    bad[n / 2] ^= 0xff;
    std::fs::write(&layer_blob, &bad).unwrap();
    let a = hostile(tmp.path(), &format!("onboot:\n  - name: x\n    image: \"{corrupt}\"\n"));
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(stderr(&a).contains("hint"), "{}", stderr(&a));

    // SOURCE_DATE_EPOCH that is not a number.
    let a = sealkit(&tmp.path().join("store"))
        .arg("build")
        .arg(&config)
        .args(["--format", "tar", "-o"])
        .arg(tmp.path().join("epoch"))
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .assert()
        .code(2);
    assert!(stderr(&a).contains("SOURCE_DATE_EPOCH"));

    // An output folder that holds something else; --force replaces only the build's own files.
    let out = tmp.path().join("busy");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let build = |force: bool| {
        let mut c = sealkit(&tmp.path().join("store"));
        c.arg("build").arg(&config).args(["--format", "tar", "-o"]).arg(&out);
        if force {
            c.arg("--force");
        }
        c.assert()
    };
    let a = build(false).code(2);
    assert!(
        stderr(&a).contains("not empty") && stderr(&a).contains("notes.txt"),
        "{}",
        stderr(&a)
    );
    build(true).success();
    build(true).success();
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notes.txt", "ok.tar"]);
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");

    // An output folder below a file, and one that cannot be written.
    let a = sealkit(&tmp.path().join("store"))
        .arg("build")
        .arg(&config)
        .args(["--format", "tar", "-o"])
        .arg(out.join("notes.txt/sub"))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("notes.txt/sub"), "{}", stderr(&a));
    let a = sealkit(&tmp.path().join("store"))
        .arg("build")
        .arg(&config)
        .args(["--format", "tar", "-o", "/proc/sealkit-out"])
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("/proc/sealkit-out") && stderr(&a).contains("hint"),
        "{}",
        stderr(&a)
    );
}

/// A disk that fills up mid-build: a 1 MiB tmpfs in a private mount namespace (unshare: root or
/// an unprivileged user namespace), too small for the image. The build fails with exit 2 and the
/// folder is left empty: no partial output, no staging folder, no spool.
#[test]
fn a_full_disk_leaves_no_partial_output() {
    let tmp = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let image = layout(
        &tmp.path().join("image"),
        &[layer(&[E::File("big", 0o644, &big)])],
        true,
    );
    let config = tmp.path().join("x.yml");
    std::fs::write(&config, format!("onboot:\n  - name: x\n    image: \"{image}\"\n")).unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("sealkit");
    let script = format!(
        "mount -t tmpfs -o size=1m tmpfs {disk} && {exe} build {config} --format tar -o {disk}/out; rc=$?; \
         echo \"left: $(ls -A {disk}/out | tr '\\n' ' ')\"; exit $rc",
        disk = disk.display(),
        exe = exe.display(),
        config = config.display()
    );
    let result = std::process::Command::new("unshare")
        .args(["--map-root-user", "--mount", "sh", "-c", &script])
        .env("SEALKIT_STORE", tmp.path().join("store"))
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr),
    );
    if err.contains("unshare failed") || err.contains("Operation not permitted") {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root: {err}");
        return;
    }
    assert_eq!(result.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("No space left on device") && err.contains("hint"), "{err}");
    assert_eq!(out.trim(), "left:", "nothing is left in the output folder");
}

#[test]
fn iso_efi_without_its_tools_names_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = demo(tmp.path(), &IMAGES) else {
        return;
    };
    let out = tmp.path().join("out");
    let a = sealkit(&store)
        .arg("build")
        .arg(&config)
        .args(["--format", "iso-efi", "-o"])
        .arg(&out)
        .env("PATH", tmp.path().join("no-tools"))
        .assert()
        .code(2);
    let err = stderr(&a);
    assert!(
        err.contains("grub-mkimage is not installed") && err.contains("apt-get install grub-efi-amd64-bin"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing is left behind");

    // A line break in the command line would be a command of its own in grub.cfg.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("panic=-1", "panic=-1\\nsearch");
    std::fs::write(&config, text).unwrap();
    let a = sealkit(&store)
        .arg("build")
        .arg(&config)
        .args(["--format", "iso-efi", "-o"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("kernel.cmdline") && stderr(&a).contains("line break"),
        "{}",
        stderr(&a)
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing is left behind");
}

/// A volume in `format: oci` holds its image as an OCI layout, which skopeo reads and copies
/// (verifying every blob).
#[test]
fn an_oci_volume_is_a_layout_skopeo_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let image = layout(
        &tmp.path().join("image"),
        &[layer(&[E::Dir("etc", 0o755), E::File("bin/app", 0o755, b"app")])],
        true,
    );
    let yaml = format!(
        "onboot:\n  - name: x\n    image: \"{image}\"\n    binds:\n      - vol:/vol\nvolumes:\n  - name: vol\n    image: \"{image}\"\n    format: oci\n"
    );
    let a = hostile(tmp.path(), &yaml);
    assert!(a.get_output().status.success(), "{}", stderr(&a));
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&unpacked)
        .arg("-xf")
        .arg(tmp.path().join("out/x.tar"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let lower = unpacked.join("containers/volumes/vol/lower");
    assert!(lower.join("oci-layout").is_file() && unpacked.join("containers/volumes/vol/merged").is_dir());
    let skopeo = |args: &[&str]| {
        let out = std::process::Command::new("skopeo").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "skopeo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let inspected: serde_json::Value =
        serde_json::from_slice(&skopeo(&["inspect", &format!("oci:{}", lower.display())])).unwrap();
    let manifest = std::fs::read(tmp.path().join("image/index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(inspected["Digest"], index["manifests"][0]["digest"]);
    skopeo(&[
        "copy",
        &format!("oci:{}", lower.display()),
        &format!("oci:{}", tmp.path().join("copy").display()),
    ]);

    // Another platform than the build's cannot be written: the store holds one.
    let second = tmp.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    let a = hostile(
        &second,
        &format!("volumes:\n  - name: vol\n    image: \"{image}\"\n    format: oci\n    platforms: [linux/arm64]\n"),
    );
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(stderr(&a).contains("linux/arm64"), "{}", stderr(&a));
}

/// Hard links stay hard links; empty files that merely sit side by side do not become one.
#[test]
fn only_real_hard_links_are_linked() {
    let tmp = tempfile::tempdir().unwrap();
    let image = layout(
        &tmp.path().join("image"),
        &[layer(&[
            E::File("a", 0o600, b""),
            E::File("b", 0o755, b""),
            E::File("c", 0o644, b"shared"),
            E::Hardlink("d", "c"),
        ])],
        true,
    );
    let a = hostile(tmp.path(), &format!("onboot:\n  - name: x\n    image: \"{image}\"\n"));
    assert!(a.get_output().status.success(), "{}", stderr(&a));
    let list = members(&std::fs::read(tmp.path().join("out/x.tar")).unwrap());
    let tree: BTreeMap<&str, &Member> = list.iter().map(|(n, m)| (n.as_str(), m)).collect();
    let lower = "containers/onboot/000-x/lower";
    assert_eq!(tree[format!("{lower}/a").as_str()].kind, tar::EntryType::Regular);
    assert_eq!(tree[format!("{lower}/a").as_str()].mode, 0o600);
    assert_eq!(tree[format!("{lower}/b").as_str()].kind, tar::EntryType::Regular);
    assert_eq!(tree[format!("{lower}/b").as_str()].mode, 0o755);
    let d = tree[format!("{lower}/d").as_str()];
    assert_eq!(d.kind, tar::EntryType::Link);
    assert_eq!(d.link.as_deref(), Some(format!("{lower}/c").as_str()));
}

/// A file name that is not UTF-8 is refused by name, not silently rewritten.
#[test]
fn a_name_that_is_not_utf8_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = layer(&[E::File("bin/bad-X", 0o644, b"x")]);
    let at = bytes[..100].iter().position(|&b| b == b'X').unwrap();
    bytes[at] = 0xff;
    bytes[148..156].copy_from_slice(b"        ");
    let sum: u32 = bytes[..512].iter().map(|&b| u32::from(b)).sum();
    bytes[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let image = layout(&tmp.path().join("image"), &[bytes], true);
    let a = hostile(tmp.path(), &format!("onboot:\n  - name: x\n    image: \"{image}\"\n"));
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(
        stderr(&a).contains("is not a UTF-8 name") && stderr(&a).contains("onboot[0]"),
        "{}",
        stderr(&a)
    );
}

/// A one-service configuration in `dir` over a hand-made image, with `extra` YAML appended.
fn small_config(dir: &Path, extra: &str) -> PathBuf {
    let image = dir.join("image");
    if !image.exists() {
        layout(
            &image,
            &[layer(&[E::Dir("etc", 0o755), E::File("bin/app", 0o755, b"app")])],
            true,
        );
    }
    let config = dir.join("x.yml");
    std::fs::write(
        &config,
        format!("onboot:\n  - name: x\n    image: \"oci:image:latest\"\n{extra}"),
    )
    .unwrap();
    config
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `files: source:` takes a regular file, or a symlink to one: a device would be read forever
/// (/dev/zero filled 24 GB in a minute) and a FIFO would wait for a writer, so both are refused
/// before they are opened, and a source over 1 GiB before it is read (the sparse one here costs
/// nothing). Each refusal leaves the output folder empty.
#[test]
fn a_files_source_is_a_regular_file_of_bounded_size() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let status = std::process::Command::new("mkfifo")
        .arg(d.join("fifo"))
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("/dev/zero", d.join("zero-link")).unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    std::fs::File::create(d.join("huge"))
        .unwrap()
        .set_len((1 << 30) + 1)
        .unwrap();
    std::fs::write(d.join("motd"), "hello\n").unwrap();
    std::os::unix::fs::symlink("motd", d.join("motd-link")).unwrap();
    let build = |source: &str| {
        let config = small_config(d, &format!("files:\n  - path: etc/motd\n    source: {source}\n"));
        let out = d.join("out");
        let _ = std::fs::remove_dir_all(&out);
        let assert = sealkit(&d.join("store"))
            .arg("build")
            .arg(&config)
            .args(["--format", "tar", "-o"])
            .arg(&out)
            // Guards against a hang only: a refused FIFO returns at once.
            .timeout(std::time::Duration::from_secs(300))
            .assert();
        if !assert.get_output().status.success() {
            assert_eq!(
                listing(&out),
                Vec::<String>::new(),
                "a failed build leaves nothing behind"
            );
        }
        assert
    };
    for (source, kind) in [
        ("/dev/zero", "a character device"),
        ("zero-link", "a character device"),
        ("fifo", "a FIFO"),
        ("folder", "a folder"),
    ] {
        let a = build(source);
        let err = stderr(&a);
        assert_eq!(a.get_output().status.code(), Some(2), "{source}: {err}");
        assert!(
            err.contains("error[bad-file-entry]")
                && err.contains("files[0]")
                && err.contains(&format!("is {kind}, not a regular file"))
                && err.contains("hint: name a regular file"),
            "{source}: {err}"
        );
    }
    let a = build("huge");
    let err = stderr(&a);
    assert_eq!(a.get_output().status.code(), Some(2), "{err}");
    assert!(
        err.contains("error[source-too-large]") && err.contains("is larger than 1073741824 bytes"),
        "{err}"
    );

    let a = build("motd-link");
    assert!(a.get_output().status.success(), "{}", stderr(&a));
    let list = members(&std::fs::read(d.join("out/x.tar")).unwrap());
    let motd = list.iter().find(|(n, _)| n == "etc/motd").unwrap();
    assert_eq!(
        (motd.1.kind, motd.1.data.as_slice()),
        (tar::EntryType::Regular, &b"hello\n"[..])
    );
}

/// The build's -o names a folder: a device, a symlink to one or a file there is refused and left
/// as it was, and inside the folder only regular files of the outputs' names are replaced.
/// Outputs follow the umask, as LinuxKit's do.
#[test]
fn the_output_folder_replaces_nothing_but_its_own_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let config = small_config(d, "");
    let build = |out: &Path, force: bool| {
        let mut c = sealkit(&d.join("store"));
        c.arg("build").arg(&config).args(["--format", "tar", "-o"]).arg(out);
        if force {
            c.arg("--force");
        }
        c.assert()
    };
    let refused = |out: &Path, force: bool, expect: &str| {
        let a = build(out, force);
        let err = stderr(&a);
        assert_eq!(a.get_output().status.code(), Some(2), "{err}");
        assert!(err.contains(expect) && err.contains("hint:"), "{expect}: {err}");
    };

    let file = d.join("a-file");
    std::fs::write(&file, "mine").unwrap();
    refused(&file, false, "error[output-clash]: ");
    refused(&file, false, "a-file: is a file, not a folder");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    refused(Path::new("-"), false, "error: -o -: the build writes several files");

    if is_root() {
        let status = std::process::Command::new("mknod")
            .arg(d.join("null"))
            .args(["c", "1", "3"])
            .status()
            .unwrap();
        assert!(status.success());
        std::os::unix::fs::symlink(d.join("null"), d.join("null-link")).unwrap();
        for out in ["null", "null-link"] {
            refused(&d.join(out), false, "is a character device, not a folder");
        }
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::symlink_metadata(d.join("null"))
                .unwrap()
                .file_type()
                .is_char_device()
        );
        assert!(
            std::fs::symlink_metadata(d.join("null-link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root: mknod");
    }

    // With --force, an output's name taken by a symlink or a FIFO is not this build's to replace.
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink("/dev/null", out.join("x.tar")).unwrap();
    refused(&out, true, "x.tar: is a symlink where an output file goes");
    std::fs::remove_file(out.join("x.tar")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(out.join("x.tar"))
        .status()
        .unwrap();
    assert!(status.success());
    refused(&out, true, "x.tar: is a FIFO where an output file goes");
    std::fs::remove_file(out.join("x.tar")).unwrap();

    let exe = assert_cmd::cargo::cargo_bin("sealkit");
    let result = std::process::Command::new("sh")
        .args(["-c", "umask 027 && exec \"$0\" \"$@\""])
        .arg(&exe)
        .arg("build")
        .arg(&config)
        .args(["--format", "tar", "-o"])
        .arg(&out)
        .env("SEALKIT_STORE", d.join("store"))
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let mode = std::fs::metadata(out.join("x.tar")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o640
    );
}

/// A build killed with SIGKILL leaves its staging folder; the next build into the folder removes
/// it and is not refused as "not empty". A live build's staging folder is locked (flock) and left
/// alone. The build is held mid-way by an iso-efi whose grub-mkimage never returns.
#[test]
fn a_killed_build_leaves_nothing_that_fails_the_next() {
    if !Path::new("/usr/lib/grub/x86_64-efi/linux.mod").is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs grub-efi-amd64-bin (scripts/test)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    layout(
        &d.join("kernel"),
        &[layer(&[E::File("kernel", 0o644, b"not a real kernel")])],
        true,
    );
    let config = small_config(
        d,
        "kernel:\n  image: \"oci:kernel:latest\"\n  cmdline: console=ttyS0\n  tar: none\n",
    );
    let tools = d.join("tools");
    std::fs::create_dir(&tools).unwrap();
    std::fs::write(
        tools.join("grub-mkimage"),
        "#!/bin/sh\ntouch \"$HELD\"\nexec sleep 3600\n",
    )
    .unwrap();
    std::fs::set_permissions(
        tools.join("grub-mkimage"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default());

    // A build held in grub-mkimage, in a process group of its own.
    let held = |out: &Path| -> std::process::Child {
        use std::os::unix::process::CommandExt;
        let marker = d.join("held");
        let _ = std::fs::remove_file(&marker);
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sealkit"))
            .arg("build")
            .arg(&config)
            .args(["--format", "iso-efi", "-o"])
            .arg(out)
            .env("SEALKIT_STORE", d.join("store"))
            .env("PATH", &path)
            .env("HELD", &marker)
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        // A bound against a hang only.
        for _ in 0..6000 {
            if marker.exists() {
                return child;
            }
            if child.try_wait().unwrap().is_some() {
                let mut err = String::new();
                child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
                panic!("the build ended before grub-mkimage: {err}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the build never reached grub-mkimage");
    };
    // SIGKILL to the build and its grub-mkimage, both started here.
    let kill = |mut build: std::process::Child| {
        let status = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", build.id())])
            .status()
            .unwrap();
        assert!(status.success());
        build.wait().unwrap();
    };
    let staging = |out: &Path| {
        listing(out)
            .into_iter()
            .filter(|n| n.starts_with(".sealkit-build-"))
            .count()
    };
    let tar = |out: &Path, name: &str, force: bool| {
        let mut c = sealkit(&d.join("store"));
        c.arg("build")
            .arg(&config)
            .args(["--format", "tar", "--name", name, "-o"])
            .arg(out);
        if force {
            c.arg("--force");
        }
        let a = c.assert();
        assert!(a.get_output().status.success(), "{}", stderr(&a));
    };

    let out = d.join("out");
    let build = held(&out);
    assert_eq!(staging(&out), 1);
    kill(build);
    assert_eq!(staging(&out), 1, "a killed build leaves its staging folder");
    tar(&out, "next", false);
    assert_eq!(listing(&out), ["next.tar"], "the next build removed it");

    // A live build's staging folder is not stale: a second build beside it leaves it alone.
    let out = d.join("shared");
    let build = held(&out);
    tar(&out, "beside", false);
    assert_eq!(staging(&out), 1, "the live build's staging folder is left alone");
    kill(build);
    tar(&out, "after", true);
    assert_eq!(listing(&out), ["after.tar", "beside.tar"]);
}

/// The kernel's module tarball is read by the same rules as every layer: one that ends right
/// after its last member (as umoci writes tars) is unpacked, and a NUL in a member's name — which
/// the initrd's readers would stop at — is refused, naming the tarball and the member.
#[test]
fn kernel_modules_are_read_as_layers_are() {
    let kernel = |dir: &Path, modules: &[u8]| {
        layout(
            dir,
            &[layer(&[
                E::File("kernel", 0o644, b"bzImage"),
                E::File("kernel.tar", 0o644, modules),
            ])],
            true,
        )
    };
    let yaml = |image: &str| format!("kernel:\n  image: \"{image}\"\n  cmdline: \"console=ttyS0\"\n");

    let modules = layer(&[E::File("lib/modules/6.0.0/foo.ko", 0o644, b"module")]);
    // One header, then the data: cut right after it, without the padding and the closing blocks.
    assert_eq!(&modules[512..518], b"module");
    let footerless = &modules[..512 + 6];
    let tmp = tempfile::tempdir().unwrap();
    let image = kernel(&tmp.path().join("image"), footerless);
    let a = hostile(tmp.path(), &yaml(&image));
    assert!(a.get_output().status.success(), "{}", stderr(&a));
    let list = members(&std::fs::read(tmp.path().join("out/x.tar")).unwrap());
    let (_, ko) = list
        .iter()
        .find(|(n, _)| n == "lib/modules/6.0.0/foo.ko")
        .expect("the module is unpacked");
    assert_eq!(ko.data, b"module");

    // Cut inside the module's data: an error naming the member, with no empty segment.
    let tmp = tempfile::tempdir().unwrap();
    let image = kernel(&tmp.path().join("image"), &modules[..512 + 3]);
    let a = hostile(tmp.path(), &yaml(&image));
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(
        stderr(&a).contains(
            ": kernel.tar: lib/modules/6.0.0/foo.ko: the layer ends inside this entry's data (3 of its 6 bytes)"
        ),
        "{}",
        stderr(&a)
    );
    assert!(!stderr(&a).contains(": :"), "{}", stderr(&a));

    let hidden = layer(&[
        E::File("lib/modules/6.0.0/foo.ko", 0o644, b"module"),
        E::Pax(&[("path", b"lib/modules/6.0.0/foo.ko\0hidden")]),
        E::File("placeholder", 0o644, b"other"),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let image = kernel(&tmp.path().join("image"), &hidden);
    let a = hostile(tmp.path(), &yaml(&image));
    assert_eq!(a.get_output().status.code(), Some(2), "{}", stderr(&a));
    assert!(
        // The build may warn first (an SBOM without a supplier); the error is its own line.
        stderr(&a)
            .lines()
            .any(|line| line.starts_with("error[bad-image-content]: "))
            && stderr(&a).contains(": kernel.tar: lib/modules/6.0.0/foo.ko\\0hidden: ")
            && stderr(&a).contains("its name holds a NUL byte"),
        "{}",
        stderr(&a)
    );
}
