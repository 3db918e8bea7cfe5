//! Golden files: the exact `config.json` and `runtime.json` bytes LinuxKit writes for the
//! containers of examples/minimal.yml, sshd.yml and getty.yml, given the labels of pkg/.
//!
//! The expected bytes follow LinuxKit v1.8.2's source (commit 3bf33c3a1), checked by hand:
//! - src/cmd/linuxkit/moby/config.go `ConfigToOCI`: precedence YAML > label > image > default;
//!   default mounts (/proc, /dev, /dev/pts, /sys, /sys/fs/cgroup) keyed and sorted by
//!   destination; binds `src:dst` get `rw,rbind,rshared`; namespaces net/ipc/uts/user default to
//!   the host, pid is new, mount always new, in that order; `capabilities: [all]` expands to
//!   `capability.ListKnown()` (effective, kernel order) and bounding = inheritable = permitted =
//!   the sorted set; devices add a `rwm` cgroup rule, `path: all` only the rule.
//! - moby/build/build.go `outputImage`: `json.MarshalIndent(oci, "", "    ")`, bundle folder
//!   `containers/onboot/NNN-name` or `containers/services/name`.
//! - moby/build/image.go `ImageBundle`: runtime.json mounts start with the overlay on tmpfs (or
//!   the self bind of a read-only root), then the label/YAML runtime mounts; every pointer field of
//!   `moby.Runtime` is set by `assignRuntime`, so empty lists and namespaces are written.
//! - vendor/github.com/opencontainers/runtime-spec v1.2.1 specs-go/config.go: key order and
//!   omitempty of every struct.
//!
//! No image config is read here (so no Entrypoint/Env/WorkingDir): the images are not reachable.
//! Set UPDATE_GOLDEN=1 to rewrite the files, then review the diff against the rules above.

use std::path::{Path, PathBuf};

use sealkit::config::label::LabelDir;
use sealkit::effective::{self, ImageFacts, oci::to_go_json};

fn corpus_root() -> PathBuf {
    std::env::var_os("SEALKIT_LINUXKIT_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/linuxkit-examples"))
}

fn check_example(example: &str) {
    let root = corpus_root();
    let labels = LabelDir::load(&root.join("pkg")).unwrap();
    let loaded = sealkit::config::load(&[root.join("examples").join(format!("{example}.yml"))]).unwrap();
    let facts = |image: &str, _: &Path| {
        Ok(ImageFacts {
            label: labels.find_text(image).cloned(),
            defaults: None,
        })
    };
    let components = effective::compute(&loaded, &facts).unwrap();
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(example);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for c in &components {
        let stem = c.path.replace('/', "_");
        for (kind, bytes) in [
            ("config", to_go_json(&c.config).unwrap()),
            ("runtime", to_go_json(&c.runtime).unwrap()),
        ] {
            let path = golden_dir.join(format!("{stem}.{kind}.json"));
            if update {
                std::fs::create_dir_all(&golden_dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            } else {
                let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                if expected != bytes {
                    mismatches.push(format!(
                        "{} differs; got:\n{}",
                        path.display(),
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn minimal() {
    check_example("minimal");
}

#[test]
fn sshd() {
    check_example("sshd");
}

#[test]
fn getty() {
    check_example("getty");
}
