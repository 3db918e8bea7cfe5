//! File outputs (`sbom -o`, `image export -o`): a regular file is replaced whole and follows the
//! umask; `-` is stdout; a character device or FIFO (or a symlink to one) is written through and
//! stays what it was; a folder, block device or dangling symlink is refused. docs/formats.md.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

mod common;

use common::{E, layer, layout};

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn mknod(path: &Path, kind: &str, major: &str, minor: &str) {
    let status = std::process::Command::new("mknod")
        .arg(path)
        .args([kind, major, minor])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `sealkit ARGS` under umask 027; returns (exit code, stdout, stderr).
fn run(store: &Path, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let out = std::process::Command::new("sh")
        .args(["-c", "umask 027 && exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("sealkit"))
        .args(args)
        .env("SEALKIT_STORE", store)
        .output()
        .unwrap();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn file_outputs_replace_files_and_write_through_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let store = d.join("store");
    let image = layout(
        &d.join("image"),
        &[layer(&[E::Dir("etc", 0o755), E::File("etc/motd", 0o644, b"hi\n")])],
        true,
    );
    let p = |name: &str| d.join(name).display().to_string();
    let ok = |args: &[&str]| {
        let (code, stdout, err) = run(&store, args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        stdout
    };

    // A new file and a replaced one: complete, mode 0666 less the umask.
    let export: [&str; 4] = ["image", "export", &image, "-o"];
    let sbom: [&str; 3] = ["sbom", &image, "-o"];
    for (command, file) in [(&sbom[..], "sbom.json"), (&export[..], "x.tar")] {
        let target = p(file);
        fn with<'a>(command: &[&'a str], last: &'a str) -> Vec<&'a str> {
            [command, &[last]].concat()
        }
        std::fs::write(d.join(file), "old").unwrap();
        for _ in 0..2 {
            ok(&with(command, &target));
            let meta = std::fs::metadata(d.join(file)).unwrap();
            assert_eq!(
                std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
                0o640
            );
            std::fs::remove_file(d.join(file)).unwrap();
        }
        ok(&with(command, &target));
        // `-` is stdout, with the very bytes of the file.
        assert_eq!(
            ok(&with(command, "-")),
            std::fs::read(d.join(file)).unwrap(),
            "{command:?}"
        );
    }
    let sbom = std::fs::read(d.join("sbom.json")).unwrap();

    // A symlink to a file: the file is replaced, the link stays.
    std::fs::write(d.join("target.json"), "old").unwrap();
    std::os::unix::fs::symlink("target.json", d.join("link.json")).unwrap();
    ok(&["sbom", &image, "-o", &p("link.json")]);
    assert!(
        std::fs::symlink_metadata(d.join("link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(d.join("target.json")).unwrap(), sbom);

    // A FIFO is written through, and stays a FIFO.
    let status = std::process::Command::new("mkfifo")
        .arg(d.join("fifo"))
        .status()
        .unwrap();
    assert!(status.success());
    let fifo = d.join("fifo");
    let reader = std::thread::spawn(move || std::fs::read(fifo).unwrap());
    ok(&["sbom", &image, "-o", &p("fifo")]);
    assert_eq!(reader.join().unwrap(), sbom);
    assert!(std::fs::symlink_metadata(d.join("fifo")).unwrap().file_type().is_fifo());

    // /dev/stdout on a pipe: a link whose text names no file, followed to the pipe.
    assert_eq!(ok(&["sbom", &image, "-o", "/dev/stdout"]), sbom);

    // Refused: a folder, a dangling symlink; nothing is written.
    std::fs::create_dir(d.join("folder")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
    for (target, expect) in [
        (
            "folder",
            "folder: is a folder: sealkit writes a file here, or streams to a character device or FIFO",
        ),
        ("dangling", "dangling: is a symlink to nothing"),
    ] {
        let (code, _, err) = run(&store, &["sbom", &image, "-o", &p(target)]);
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains("error[output-clash]") && err.contains(expect) && err.contains("hint:"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read_dir(d.join("folder")).unwrap().count(), 0);
    assert!(!d.join("nowhere").exists());

    if !is_root() {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root: mknod");
        return;
    }
    // A character device (this test's own /dev/null), or a symlink to one, is written through
    // and stays a device; a block device is refused before it is opened (7:250, a loop device
    // that does not exist, would fail if it were).
    mknod(&d.join("null"), "c", "1", "3");
    std::os::unix::fs::symlink(d.join("null"), d.join("null-link")).unwrap();
    mknod(&d.join("disk"), "b", "7", "250");
    for target in ["null", "null-link"] {
        ok(&["sbom", &image, "-o", &p(target)]);
        ok(&["image", "export", &image, "-o", &p(target)]);
    }
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
    let (code, _, err) = run(&store, &["image", "export", &image, "-o", &p("disk")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("error[output-clash]") && err.contains("disk: is a block device"),
        "{err}"
    );
    assert!(
        std::fs::symlink_metadata(d.join("disk"))
            .unwrap()
            .file_type()
            .is_block_device()
    );
}
