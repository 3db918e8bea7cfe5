//! SBOMs: recall against dpkg's own view of the sshd fixture, validity according to validators no
//! one here wrote (pyspdxtools, the CycloneDX 1.6 schema, the NTIA minimum elements), determinism,
//! and broken package databases that are reported and gone past.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

mod common;

use assert_cmd::Command;

fn validators() -> Option<PathBuf> {
    let dir = std::env::var_os("SEALKIT_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/peers/validators/bin"));
    let present = dir.join("pyspdxtools").exists();
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI needs the SBOM validators (scripts/test installs them)"
    );
    present.then_some(dir)
}

fn sshd_layout() -> Option<PathBuf> {
    common::fixture_layouts(&["sshd"]).map(|dir| dir.join("sshd"))
}

fn sealkit(store: &Path) -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    c.env("SEALKIT_STORE", store);
    c
}

/// Runs a command that must succeed; its standard output.
fn run(what: &str, cmd: &mut Process) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Ground truth: the image exported and extracted, and `dpkg-query -W` over its own database
/// ("name\tversion\tarch" lines).
fn dpkg_truth(store: &Path, image: &str, tmp: &Path) -> (PathBuf, BTreeSet<String>) {
    let tar = tmp.join("export.tar");
    sealkit(store)
        .args(["image", "export", image, "-o"])
        .arg(&tar)
        .assert()
        .success();
    let root = tmp.join("root");
    std::fs::create_dir_all(&root).unwrap();
    assert!(
        Process::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-xf")
            .arg(&tar)
            .status()
            .unwrap()
            .success()
    );
    let out = run(
        "dpkg-query",
        Process::new("dpkg-query")
            .arg(format!("--admindir={}", root.join("var/lib/dpkg").display()))
            .args(["-W", "-f", "${Package}\t${Version}\t${Architecture}\n"]),
    );
    (root, out.lines().map(str::to_owned).collect())
}

/// pyspdxtools reports nothing and the NTIA checker says conformant; the CycloneDX validates
/// against the 1.6 schema. The documents are written as `dir/NAME.spdx.json` and `NAME.cdx.json`.
fn assert_valid(dir: &Path, name: &str, spdx: &[u8], cdx: &[u8]) {
    let Some(bin) = validators() else { return };
    let spdx_path = dir.join(format!("{name}.spdx.json"));
    let cdx_path = dir.join(format!("{name}.cdx.json"));
    std::fs::write(&spdx_path, spdx).unwrap();
    std::fs::write(&cdx_path, cdx).unwrap();
    let (spdx, cdx) = (&spdx_path, &cdx_path);
    let out = Process::new(bin.join("pyspdxtools"))
        .arg("-i")
        .arg(spdx)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "pyspdxtools: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Process::new(bin.join("ntia-checker"))
        .args(["-c", "ntia", "--file"])
        .arg(spdx)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Conformant: True"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-cyclonedx");
    let out = Process::new(bin.join("python")).arg(script).arg(cdx).output().unwrap();
    assert!(
        out.status.success(),
        "CycloneDX 1.6 schema: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn sbom(store: &Path, image: &str, format: &str) -> Vec<u8> {
    sealkit(store)
        .args(["sbom", image, "--format", format])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

#[test]
fn sshd_recall_validity_and_determinism() {
    let Some(layout) = sshd_layout() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    // Named as the demo names it: the name's namespace is the image's supplier (NTIA).
    let image = "sealkit-fixtures/sshd:1";
    sealkit(&store)
        .args([
            "image",
            "import",
            &format!("oci:{}:1", layout.display()),
            "--tag",
            image,
        ])
        .assert()
        .success();

    // Ground truth: dpkg-query over the image's own database.
    let (_, truth) = dpkg_truth(&store, image, tmp.path());

    let catalog: serde_json::Value = serde_json::from_slice(&sbom(&store, image, "json")).unwrap();
    let found: BTreeSet<String> = catalog["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| {
            format!(
                "{}\t{}\t{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["arch"].as_str().unwrap()
            )
        })
        .collect();
    assert!(truth.len() >= 40, "the sshd fixture has {} packages", truth.len());
    assert_eq!(
        found, truth,
        "every package dpkg-query lists, with the same name, version and architecture"
    );
    let server = catalog["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "openssh-server")
        .unwrap();
    assert_eq!(server["source_name"], "openssh");
    assert!(server["files"].as_array().unwrap().iter().any(|f| f == "usr/sbin/sshd"));
    assert!(
        server["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/openssh-server@")
    );
    assert!(
        !server["licenses"].as_array().unwrap().is_empty(),
        "from the machine-readable copyright file"
    );

    let spdx = sbom(&store, image, "spdx-json");
    let cdx = sbom(&store, image, "cyclonedx-json");
    assert_eq!(
        spdx,
        sbom(&store, image, "spdx-json"),
        "SPDX is byte-identical across runs"
    );
    assert_eq!(
        cdx,
        sbom(&store, image, "cyclonedx-json"),
        "CycloneDX is byte-identical across runs"
    );
    let doc: serde_json::Value = serde_json::from_slice(&spdx).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert!(
        files.iter().all(|f| f["checksums"].as_array().unwrap().len() == 2),
        "SHA1 and SHA256 for every file"
    );
    assert!(
        doc["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["relationshipType"] == "DEPENDS_ON")
    );

    assert_valid(tmp.path(), "sshd", &spdx, &cdx);
}

#[test]
fn broken_package_databases_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nbroken line\n",
    )
    .unwrap();
    let mut status = b"Package: good\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n".to_vec();
    status.extend_from_slice(b"Package: noversion\nStatus: install ok installed\n\n");
    status.extend_from_slice(b"this is not a field\n\n");
    status.extend_from_slice(b"Package: good\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n");
    status.extend_from_slice(b"Package: removed\nStatus: deinstall ok config-files\nVersion: 2\n\n");
    status.extend_from_slice(b"Package: latin1\nStatus: install ok installed\nVersion: 3\nMaintainer: Jos\xe9\n");
    std::fs::write(root.join("var/lib/dpkg/status"), status).unwrap();
    std::fs::write(root.join("var/lib/dpkg/info/good.list"), "/.\n/usr\n/usr/bin/good\n").unwrap();
    let store = tmp.path().join("store");
    let out = sealkit(&store)
        .args(["sbom", "--format", "json"])
        .arg(format!("dir:{}", root.display()))
        .assert()
        .success()
        .get_output()
        .clone();
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = catalog["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["good", "good", "latin1"],
        "broken and removed stanzas skipped, duplicates kept and reported"
    );
    let problems: Vec<String> = catalog["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}:{}: {}",
                p["file"].as_str().unwrap(),
                p["line"],
                p["message"].as_str().unwrap()
            )
        })
        .collect();
    let all = problems.join("\n");
    for expected in [
        "var/lib/dpkg/status:6: stanza without Package or Version",
        "var/lib/dpkg/status:9: not a field",
        "listed again",
        "not UTF-8",
        "etc/os-release:3: not KEY=VALUE",
    ] {
        assert!(all.contains(expected), "{expected:?} not in\n{all}");
    }
    assert_eq!(catalog["distro"]["id"], "debian");
    assert!(
        catalog["packages"][0]["purl"]
            .as_str()
            .unwrap()
            .ends_with("?arch=amd64&distro=debian-12")
    );
}

#[test]
fn python_and_npm_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let site = root.join("usr/lib/python3/dist-packages");
    let info = site.join("Requests_Toolbelt-1.0.0.dist-info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(info.join("METADATA"), "Metadata-Version: 2.1\nName: requests_toolbelt\nVersion: 1.0.0\nLicense: Apache 2.0\nRequires-Dist: requests (<3.0.0,>=2.0.1)\nRequires-Dist: pytest ; extra == 'test'\n\nLong description: ignored\n").unwrap();
    std::fs::write(
        info.join("RECORD"),
        "requests_toolbelt/__init__.py,sha256=x,10\n../../../bin/toolbelt,,\n../../../../../../etc/shadow,,\n",
    )
    .unwrap();
    std::fs::create_dir_all(site.join("requests_toolbelt")).unwrap();
    std::fs::write(site.join("requests_toolbelt/__init__.py"), "").unwrap();
    let nm = root.join("srv/app/node_modules");
    std::fs::create_dir_all(nm.join("@scope/lib")).unwrap();
    std::fs::create_dir_all(nm.join("left-pad")).unwrap();
    std::fs::create_dir_all(nm.join("broken")).unwrap();
    std::fs::write(
        nm.join("@scope/lib/package.json"),
        r#"{"name":"@scope/lib","version":"2.1.0","license":{"type":"MIT"},"dependencies":{"left-pad":"^1"}}"#,
    )
    .unwrap();
    std::fs::write(
        nm.join("left-pad/package.json"),
        r#"{"name":"left-pad","version":"1.3.0","license":"WTFPL"}"#,
    )
    .unwrap();
    std::fs::write(
        nm.join("broken/package.json"),
        "{\"name\": \"broken\",\n \"version\": }",
    )
    .unwrap();
    let store = tmp.path().join("store");
    let out = sealkit(&store)
        .args(["sbom", "--format", "json"])
        .arg(format!("dir:{}", root.display()))
        .assert()
        .success()
        .get_output()
        .clone();
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = catalog["packages"].as_array().unwrap();
    let find = |name: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {packages:?}"))
    };
    let toolbelt = find("requests_toolbelt");
    assert_eq!(toolbelt["purl"], "pkg:pypi/requests-toolbelt@1.0.0");
    assert_eq!(toolbelt["depends"], serde_json::json!(["requests"]));
    assert!(
        toolbelt["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "usr/bin/toolbelt")
    );
    assert_eq!(find("@scope/lib")["purl"], "pkg:npm/%40scope/lib@2.1.0");
    assert_eq!(find("@scope/lib")["licenses"], serde_json::json!(["MIT"]));
    assert_eq!(find("left-pad")["licenses"], serde_json::json!(["WTFPL"]));
    let problems = catalog["problems"].to_string();
    assert!(problems.contains("points outside the image root"), "{problems}");
    assert!(
        problems.contains("broken/package.json") && problems.contains("not JSON"),
        "{problems}"
    );
}

/// The whole OS image of examples/demo.yml: every component's packages at their paths in the
/// final image, unique SPDXIDs, valid and reproducible.
#[test]
fn whole_image_sbom_of_the_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, yaml)) = common::demo(tmp.path(), &common::DEMO_IMAGES) else {
        return;
    };
    sealkit(&store)
        .arg("lock")
        .arg(&yaml)
        .arg("--offline")
        .assert()
        .success();
    let spdx = sbom(&store, yaml.to_str().unwrap(), "spdx-json");
    assert_eq!(spdx, sbom(&store, yaml.to_str().unwrap(), "spdx-json"), "reproducible");
    let doc: serde_json::Value = serde_json::from_slice(&spdx).unwrap();
    let ids: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["files"].as_array().unwrap())
        .map(|e| e["SPDXID"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "SPDXIDs are unique across components");
    let names: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"./containers/services/sshd/lower/usr/sbin/sshd"),
        "sshd's files under its bundle"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("./containers/services/hello/rootfs/")),
        "read-only roots unpack in rootfs/"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("./containers/onboot/000-selftest/lower/"))
    );
    assert_eq!(doc["packages"][0]["primaryPackagePurpose"], "OPERATING-SYSTEM");
    let cdx = sbom(&store, yaml.to_str().unwrap(), "cyclonedx-json");
    assert_valid(tmp.path(), "demo", &spdx, &cdx);
}

/// A whole Debian system (mmdebstrap, ~120 packages, fixtures/build `rootfs`): every package
/// dpkg-query lists and every distribution pip lists, with the same versions.
#[test]
fn debian_system_recall() {
    let Some(sshd) = sshd_layout() else { return };
    let layout = sshd.with_file_name("rootfs");
    if !layout.join("index.json").is_file() {
        assert!(std::env::var_os("CI").is_none(), "CI must build the rootfs fixture");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let image = format!("oci:{}:1", layout.display());
    let (root, debs) = dpkg_truth(&store, &image, tmp.path());

    let catalog: serde_json::Value = serde_json::from_slice(&sbom(&store, &image, "json")).unwrap();
    let packages = catalog["packages"].as_array().unwrap();
    let ours = |ty: &str, with_arch: bool| -> BTreeSet<String> {
        packages
            .iter()
            .filter(|p| p["type"] == ty)
            .map(|p| {
                let mut s = format!("{}\t{}", p["name"].as_str().unwrap(), p["version"].as_str().unwrap());
                if with_arch {
                    s.push('\t');
                    s.push_str(p["arch"].as_str().unwrap());
                }
                s
            })
            .collect()
    };
    assert!(debs.len() >= 100, "{} packages", debs.len());
    assert_eq!(ours("deb", true), debs, "deb recall");
    assert_eq!(catalog["distro"]["id"], "debian");

    let Some(bin) = validators() else { return };
    let out = Process::new(bin.join("pip"))
        .args(["list", "--format", "json", "--path"])
        .arg(root.join("usr/lib/python3/dist-packages"))
        .output()
        .unwrap();
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let normalise = |s: &str| s.to_lowercase().replace(['_', '.'], "-");
    let pip: BTreeSet<String> = listed
        .iter()
        .map(|d| {
            format!(
                "{}\t{}",
                normalise(d["name"].as_str().unwrap()),
                d["version"].as_str().unwrap()
            )
        })
        .collect();
    let python: BTreeSet<String> = ours("python", false)
        .iter()
        .map(|s| {
            let (n, v) = s.split_once('\t').unwrap();
            format!("{}\t{v}", normalise(n))
        })
        .collect();
    assert!(pip.len() >= 5, "{pip:?}");
    assert_eq!(python, pip, "Python recall");
}

/// An SBOM shipped inside the image is recorded and compared with what the catalogers found; one
/// that is not JSON is a problem, not a failure.
#[test]
fn sboms_shipped_in_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/sbom")).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: alpha\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\nPackage: beta\nStatus: install ok installed\nVersion: 2\nArchitecture: amd64\n",
    )
    .unwrap();
    // BuildKit-style: an in-toto statement whose predicate is an SPDX document.
    std::fs::write(
        root.join("usr/share/sbom/image.spdx.json"),
        r#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3","packages":[{"name":"alpha"},{"name":"gamma"}]}}"#,
    )
    .unwrap();
    std::fs::write(root.join("usr/share/sbom/broken.cdx.json"), "{\"bomFormat\": ").unwrap();
    let catalog = common::sbom_json(&tmp.path().join("store"), &format!("dir:{}", root.display()));
    let attached = &catalog["attached"][0];
    assert_eq!(attached["path"], "usr/share/sbom/image.spdx.json");
    assert_eq!(attached["format"], "spdx");
    assert_eq!(attached["packages"], 2);
    assert_eq!(attached["only_in_sbom"], serde_json::json!(["gamma"]));
    assert_eq!(attached["only_in_image"], serde_json::json!(["beta"]));
    assert!(
        catalog["problems"].to_string().contains("broken.cdx.json")
            && catalog["problems"].to_string().contains("not valid JSON")
    );
}

use common::{SPDX, assert_attested, attested_image};

/// SBOMs attached as BuildKit attestation manifests are read from the index and cross-checked,
/// whether the image is read from its layout, from a docker-archive, or from the store after an
/// import; what is wrong with an attestation becomes a problem naming its blob, and the rest of
/// the SBOM is still written.
#[test]
fn sboms_attached_as_attestations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("attested");
    let other = common::sha256(b"another image");
    let cdx = std::cell::RefCell::new(String::new());
    let (reference, _, spdx_digest) = attested_image(&dir, &|image| {
        let cyclonedx = common::in_toto(
            image,
            "https://cyclonedx.org/bom",
            serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
                               "components": [{"type": "library", "name": "alpha"}, {"type": "library", "name": "beta"}]}),
        );
        *cdx.borrow_mut() = common::sha256(&cyclonedx);
        vec![
            common::Attestation::new("https://cyclonedx.org/bom", cyclonedx),
            // Provenance is not an SBOM: passed over, not a problem.
            common::Attestation::new(
                "https://slsa.dev/provenance/v0.2",
                common::in_toto(image, "https://slsa.dev/provenance/v0.2", serde_json::json!({})),
            ),
        ]
    });
    let store = tmp.path().join("store");
    let catalog = common::sbom_json(&store, &reference);
    assert_attested(&catalog, &spdx_digest);
    let attached = catalog["attached"].as_array().unwrap();
    assert_eq!(attached.len(), 2, "{catalog:#}");
    let cdx_entry = attached
        .iter()
        .find(|a| a["path"] == format!("attestation:{}", cdx.borrow()))
        .unwrap();
    assert_eq!(cdx_entry["format"], "cyclonedx");
    assert_eq!(cdx_entry["only_in_sbom"], serde_json::json!([]));
    assert_eq!(cdx_entry["only_in_image"], serde_json::json!([]));
    assert_eq!(
        catalog["problems"],
        serde_json::json!([]),
        "provenance is not a problem"
    );

    // Imported under a name, the image still finds its attestations in the store.
    sealkit(&store)
        .args(["image", "import", &reference, "--tag", "example/attested:1"])
        .assert()
        .success();
    assert_eq!(
        common::sbom_json(&store, "example/attested:1")["attached"],
        catalog["attached"]
    );
    // The SPDX and CycloneDX documents carry it as evidence of the image, and still validate
    // (named, the image has a supplier, as NTIA asks).
    let evidence = format!("attestation:{spdx_digest} (spdx, 2 packages): 1 only in the SBOM, 1 only in the image");
    let spdx: serde_json::Value = serde_json::from_slice(&sbom(&store, "example/attested:1", "spdx-json")).unwrap();
    let annotations = spdx["packages"][0]["annotations"].to_string();
    assert!(annotations.contains(&evidence), "{annotations}");
    let cdx_doc: serde_json::Value =
        serde_json::from_slice(&sbom(&store, "example/attested:1", "cyclonedx-json")).unwrap();
    let properties = cdx_doc["metadata"]["component"]["properties"].to_string();
    assert!(properties.contains(&evidence), "{properties}");
    assert_valid(
        tmp.path(),
        "attested",
        spdx.to_string().as_bytes(),
        cdx_doc.to_string().as_bytes(),
    );

    // So does an image read from a fresh store through a docker-archive holding the layout.
    let archive = tmp.path().join("attested.tar");
    assert!(
        Process::new("tar")
            .arg("-C")
            .arg(&dir)
            .arg("-cf")
            .arg(&archive)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );
    let from_archive = common::sbom_json(
        &tmp.path().join("store2"),
        &format!("docker-archive:{}", archive.display()),
    );
    assert_eq!(from_archive["attached"], catalog["attached"]);

    // Bad attestations: each a problem naming its blob, never a failure.
    let bad = tmp.path().join("bad");
    let blobs = std::cell::RefCell::new(Vec::new());
    let (reference, _, spdx_digest) = attested_image(&bad, &|_image| {
        let not_json = b"{\"_type\": ".to_vec();
        let elsewhere = common::in_toto(
            &other,
            SPDX,
            serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": []}),
        );
        let bare = serde_json::to_vec(&serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": []})).unwrap();
        *blobs.borrow_mut() = vec![
            common::sha256(&not_json),
            common::sha256(&elsewhere),
            common::sha256(&bare),
        ];
        vec![
            common::Attestation::new(SPDX, not_json),
            common::Attestation::new(SPDX, elsewhere),
            common::Attestation::new(SPDX, bare),
            // Over the 64 MiB bound: never read (nor written here: the descriptor says so).
            common::Attestation {
                predicate_type: SPDX,
                blob: None,
                size: (64 << 20) + 1,
            },
            // Listed, but the layout lacks the blob.
            common::Attestation {
                predicate_type: SPDX,
                blob: None,
                size: 10,
            },
        ]
    });
    let out = sealkit(&tmp.path().join("store3"))
        .args(["sbom", &reference, "--format", "json"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let catalog: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_attested(&catalog, &spdx_digest);
    assert_eq!(catalog["attached"].as_array().unwrap().len(), 1, "{catalog:#}");
    let problems = catalog["problems"].as_array().unwrap();
    let problem = |digest: &str| -> String {
        problems
            .iter()
            .find(|p| p["file"] == format!("attestation:{digest}"))
            .unwrap_or_else(|| panic!("no problem for {digest}: {catalog:#}"))["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let blobs = blobs.borrow();
    assert!(problem(&blobs[0]).contains("not valid JSON"));
    assert!(problem(&blobs[1]).contains(&format!("about {other}, not this image")));
    assert!(problem(&blobs[2]).contains("not an in-toto statement"));
    assert!(
        problem(&common::sha256(format!("absent {}", (64 << 20) + 1).as_bytes()))
            .contains("over the 67108864-byte limit")
    );
    assert!(problem(&common::sha256(b"absent 10")).contains("the blob is missing"));
    assert_eq!(problems.len(), 5, "{catalog:#}");
    assert!(stderr.contains("note:"), "problems are shown: {stderr}");
}

/// rpm, rpmbuild (Debian's `rpm`) and db5.3_load (`db5.3-util`), present wherever CI runs.
fn rpm_tools() -> bool {
    let present = ["rpm", "rpmbuild", "db5.3_load"]
        .iter()
        .all(|t| Process::new(t).arg("--version").output().is_ok());
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI needs rpm, rpmbuild and db5.3_load (scripts/test installs rpm and db5.3-util)"
    );
    present
}

/// A layer holding the tree at `root`: folders, files with their modes, symlinks.
fn layer_of(root: &Path) -> Vec<u8> {
    use std::os::unix::fs::PermissionsExt;
    enum Owned {
        Dir(String),
        File(String, u32, Vec<u8>),
        Link(String, String),
    }
    fn walk(root: &Path, dir: &Path, out: &mut Vec<Owned>) {
        let mut children: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        children.sort();
        for path in children {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push(Owned::Link(
                    name,
                    std::fs::read_link(&path).unwrap().display().to_string(),
                ));
            } else if meta.is_dir() {
                out.push(Owned::Dir(format!("{name}/")));
                walk(root, &path, out);
            } else {
                out.push(Owned::File(
                    name,
                    meta.permissions().mode() & 0o7777,
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    let mut owned = Vec::new();
    walk(root, root, &mut owned);
    let entries: Vec<common::E> = owned
        .iter()
        .map(|o| match o {
            Owned::Dir(n) => common::E::Dir(n, 0o755),
            Owned::File(n, mode, data) => common::E::File(n, *mode, data),
            Owned::Link(n, t) => common::E::Symlink(n, t),
        })
        .collect();
    common::layer(&entries)
}

fn rpm_query(root: &Path, args: &[&str]) -> (bool, String) {
    let out = rpm_in(root).args(args).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

/// rpm on the database of a Fedora-shaped root.
fn rpm_in(root: &Path) -> Process {
    let mut rpm = Process::new("rpm");
    rpm.arg(format!("--root={}", root.display()))
        .arg("--dbpath=/usr/lib/sysimage/rpm");
    rpm
}

const ALPHA_SPEC: &str = "Name: alpha\nEpoch: 2\nVersion: 1.0\nRelease: 3\nSummary: a\nLicense: MIT AND Apache-2.0\nVendor: Sealkit Tests\nBuildArch: noarch\nProvides: alpha-libs = 1.0\n%description\na\n%install\nmkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/alpha %{buildroot}/etc\necho alpha > %{buildroot}/usr/bin/alpha\necho data > %{buildroot}/usr/share/alpha/data.txt\necho conf > %{buildroot}/etc/alpha.conf\n%files\n%attr(0755,root,root) /usr/bin/alpha\n/usr/share/alpha\n%config /etc/alpha.conf\n";

/// Two source packages, three binary ones: `gamma` is built from `beta`'s source.
const BETA_SPEC: &str = "Name: beta\nVersion: 2.5\nRelease: 1.fc40\nSummary: b\nLicense: GPL-2.0-or-later\nVendor: Sealkit Tests\nBuildArch: noarch\nRequires: alpha-libs\nRequires: not-installed-anywhere\n%description\nb\n%package -n gamma\nSummary: g\nLicense: BSD-3-Clause\nRequires: beta = 2.5\nRequires: /usr/bin/alpha\n%description -n gamma\ng\n%install\nmkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib/beta\necho beta > %{buildroot}/usr/bin/beta\necho gamma > %{buildroot}/usr/lib/beta/gamma.dat\n%files\n/usr/bin/beta\n%dir /usr/lib/beta\n%files -n gamma\n/usr/lib/beta/gamma.dat\n";

/// Real RPMs built with rpmbuild and installed by rpm into a Fedora-shaped root (sqlite rpmdb in
/// usr/lib/sysimage/rpm, var/lib/rpm a symlink to it): the catalog is what rpm itself says.
#[test]
fn rpm_database_matches_rpm_itself() {
    if !rpm_tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("rpmbuild");
    std::fs::create_dir_all(top.join("SPECS")).unwrap();
    for (name, spec) in [("alpha", ALPHA_SPEC), ("beta", BETA_SPEC)] {
        let path = top.join(format!("SPECS/{name}.spec"));
        std::fs::write(&path, spec).unwrap();
        run(
            "rpmbuild",
            Process::new("rpmbuild")
                .arg("--define")
                .arg(format!("_topdir {}", top.display()))
                .arg("-bb")
                .arg(&path),
        );
    }
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("var/lib")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::os::unix::fs::symlink("../../usr/lib/sysimage/rpm", root.join("var/lib/rpm")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=fedora\nVERSION_ID=40\n").unwrap();
    let rpms: Vec<PathBuf> = std::fs::read_dir(top.join("RPMS/noarch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rpms.len(), 3);
    run(
        "rpm -i",
        rpm_in(&root)
            .args(["--define=_db_backend sqlite", "-i", "--nodeps", "--noscripts"])
            .args(&rpms),
    );
    assert!(
        root.join("usr/lib/sysimage/rpm/rpmdb.sqlite").is_file(),
        "the sqlite backend"
    );
    // The image is made before rpm queries touch the database again.
    let layout = common::layout(&tmp.path().join("oci"), &[layer_of(&root)], true);
    let store = tmp.path().join("store");
    // Named so that the image has a supplier (NTIA), as the demo names its images.
    let image = "sealkit-fixtures/rpm:1";
    sealkit(&store)
        .args(["image", "import", &layout, "--tag", image])
        .assert()
        .success();
    let catalog: serde_json::Value = serde_json::from_slice(&sbom(&store, image, "json")).unwrap();
    let packages: Vec<&serde_json::Value> = catalog["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "rpm")
        .collect();
    let ours: BTreeSet<String> = packages
        .iter()
        .map(|p| {
            let version = p["version"].as_str().unwrap();
            let (epoch, rest) = version.split_once(':').unwrap_or(("0", version));
            let (v, r) = rest.rsplit_once('-').unwrap();
            format!(
                "{} {epoch} {v} {r} {}",
                p["name"].as_str().unwrap(),
                p["arch"].as_str().unwrap()
            )
        })
        .collect();
    let (ok, qa) = rpm_query(
        &root,
        &["-qa", "--qf", "%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH}\\n"],
    );
    assert!(ok);
    let truth: BTreeSet<String> = qa.lines().map(str::to_owned).collect();
    assert_eq!(truth.len(), 3);
    assert_eq!(
        ours, truth,
        "the packages rpm -qa lists, with the same epoch, version, release and arch"
    );
    assert_eq!(
        catalog["problems"],
        serde_json::json!([]),
        "read once, through the symlink or not"
    );

    for p in &packages {
        let name = p["name"].as_str().unwrap();
        let (_, listed) = rpm_query(&root, &["-ql", name]);
        let files: Vec<String> = listed.lines().map(|l| l.trim_start_matches('/').to_owned()).collect();
        assert_eq!(p["files"], serde_json::json!(files), "{name}: the files rpm -ql lists");
        let (_, info) = rpm_query(&root, &["-q", "--qf", "%{SOURCERPM}\\n%{LICENSE}\\n%{VENDOR}", name]);
        let mut info = info.lines();
        let srpm = info.next().unwrap();
        assert!(
            p["purl"].as_str().unwrap().contains(&format!("upstream={srpm}")),
            "{name}: {}",
            p["purl"]
        );
        assert_eq!(p["licenses"], serde_json::json!([info.next().unwrap()]), "{name}");
        let vendor = info.next().unwrap();
        assert_eq!(p["supplier"].as_str().unwrap_or("(none)"), vendor, "{name}");
        // rpm's own resolution: what provides each requirement.
        let (_, requires) = rpm_query(&root, &["-qR", name]);
        let mut depends = BTreeSet::new();
        for req in requires.lines() {
            let capability = req.split_whitespace().next().unwrap();
            let (ok, providers) = rpm_query(&root, &["-q", "--whatprovides", capability, "--qf", "%{NAME}\\n"]);
            if ok {
                depends.extend(providers.lines().filter(|n| *n != name).map(str::to_owned));
            }
        }
        let ours: BTreeSet<String> = p["depends"]
            .as_array()
            .map(|d| d.iter().map(|n| n.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        assert_eq!(ours, depends, "{name}: depends as rpm resolves them");
    }
    let find = |n: &str| *packages.iter().find(|p| p["name"] == n).unwrap();
    assert_eq!(find("gamma")["source_name"], "beta", "built from beta's source rpm");
    assert_eq!(find("gamma")["depends"], serde_json::json!(["alpha", "beta"]));
    assert_eq!(
        find("beta")["depends"],
        serde_json::json!(["alpha"]),
        "through Provides: alpha-libs"
    );
    assert_eq!(
        find("alpha")["purl"],
        "pkg:rpm/fedora/alpha@1.0-3?arch=noarch&distro=fedora-40&epoch=2&upstream=alpha-1.0-3.src.rpm"
    );
    assert_eq!(find("alpha")["found_in"], "usr/lib/sysimage/rpm/rpmdb.sqlite");

    let spdx = sbom(&store, image, "spdx-json");
    let doc: serde_json::Value = serde_json::from_slice(&spdx).unwrap();
    let depends_on = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["relationshipType"] == "DEPENDS_ON")
        .count();
    assert_eq!(depends_on, 3, "beta→alpha, gamma→alpha, gamma→beta");
    assert_valid(tmp.path(), "rpm", &spdx, &sbom(&store, image, "cyclonedx-json"));

    // The same headers in a Berkeley DB hash database, as RHEL ≤ 8 keeps them: written by
    // Berkeley DB itself, read for the ground truth by rpm's own bdb_ro backend. Small pages put
    // the headers on overflow pages, large ones keep them on the hash page.
    let conn = rusqlite::Connection::open(root.join("usr/lib/sysimage/rpm/rpmdb.sqlite")).unwrap();
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages").unwrap();
    let rows: Vec<(u32, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let without_origin = |packages: &[&serde_json::Value]| -> Vec<serde_json::Value> {
        packages
            .iter()
            .map(|p| {
                let mut p = (*p).clone();
                p["found_in"] = serde_json::Value::Null;
                p
            })
            .collect()
    };
    for page_size in [4096, 65536] {
        let bdb_root = tmp.path().join(format!("bdb-{page_size}"));
        std::fs::create_dir_all(bdb_root.join("var/lib/rpm")).unwrap();
        std::fs::create_dir_all(bdb_root.join("etc")).unwrap();
        std::fs::write(bdb_root.join("etc/os-release"), "ID=fedora\nVERSION_ID=40\n").unwrap();
        let mut dump = format!("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize={page_size}\nHEADER=END\n");
        for (hnum, blob) in &rows {
            dump.push_str(&format!(
                " {}\n {}\n",
                hex::encode(hnum.to_ne_bytes()),
                hex::encode(blob)
            ));
        }
        dump.push_str("DATA=END\n");
        let dump_path = tmp.path().join("dump.txt");
        std::fs::write(&dump_path, dump).unwrap();
        run(
            "db5.3_load",
            Process::new("db5.3_load")
                .arg("-f")
                .arg(&dump_path)
                .arg(bdb_root.join("var/lib/rpm/Packages")),
        );
        let layout = common::layout(
            &tmp.path().join(format!("oci-{page_size}")),
            &[layer_of(&bdb_root)],
            true,
        );
        let out = Process::new("rpm")
            .arg(format!("--root={}", bdb_root.display()))
            .args(["--dbpath=/var/lib/rpm", "--define=_db_backend bdb_ro", "-qa", "--qf"])
            .arg("%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH}\\n")
            .output()
            .unwrap();
        let bdb_truth: BTreeSet<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(bdb_truth, truth, "rpm reads the Berkeley DB as it read sqlite");
        let bdb: serde_json::Value = serde_json::from_slice(&sbom(&store, &layout, "json")).unwrap();
        assert_eq!(bdb["problems"], serde_json::json!([]), "{page_size}-byte pages");
        let bdb_packages: Vec<&serde_json::Value> = bdb["packages"].as_array().unwrap().iter().collect();
        assert_eq!(bdb_packages[0]["found_in"], "var/lib/rpm/Packages");
        assert_eq!(
            without_origin(&bdb_packages),
            without_origin(&packages),
            "every fact, from the Berkeley DB as from sqlite ({page_size}-byte pages)"
        );
    }
}

/// rpm databases that are not what they claim, hold broken headers, or are in a format not read:
/// each is a problem naming its file, and the other catalogers still report.
#[test]
fn broken_rpm_databases_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("rpmdb.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);")
        .unwrap();
    let huge = [0xffu8; 64];
    let truncated = [&1u32.to_be_bytes()[..], &100u32.to_be_bytes()[..], &[0u8; 20][..]].concat();
    for blob in [&b"garbage"[..], &huge[..], &truncated[..]] {
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob]).unwrap();
    }
    drop(conn);
    let sqlite = std::fs::read(&db).unwrap();
    let status = b"Package: still-here\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n";
    let layer = common::layer(&[
        common::E::File("var/lib/rpm/rpmdb.sqlite", 0o644, b"this is not a database"),
        common::E::File("usr/lib/sysimage/rpm/rpmdb.sqlite", 0o644, &sqlite),
        common::E::File("var/lib/rpm/Packages", 0o644, b"\0\0\0\0\x61\x15\x06\0"),
        common::E::File("usr/lib/sysimage/rpm/Packages.db", 0o644, b"RpmP"),
        common::E::File("var/lib/dpkg/status", 0o644, status),
    ]);
    let image = common::layout(&tmp.path().join("oci"), &[layer], false);
    let catalog: serde_json::Value = serde_json::from_slice(&sbom(&tmp.path().join("store"), &image, "json")).unwrap();
    let names: Vec<&str> = catalog["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["still-here"]);
    let problems: Vec<String> = catalog["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}: {}", p["file"].as_str().unwrap(), p["message"].as_str().unwrap()))
        .collect();
    let all = problems.join("\n");
    for expected in [
        "var/lib/rpm/rpmdb.sqlite: rpm database not read: not an SQLite database",
        "usr/lib/sysimage/rpm/rpmdb.sqlite: package record 1 skipped: header blob of 7 bytes is too short",
        "usr/lib/sysimage/rpm/rpmdb.sqlite: package record 2 skipped: header claims 4294967295 entries",
        "usr/lib/sysimage/rpm/rpmdb.sqlite: package record 3 skipped: header claims 1 entries and 100 data bytes but the blob holds 28 bytes (truncated)",
        "var/lib/rpm/Packages: rpm database not read: not a Berkeley DB hash database",
        "usr/lib/sysimage/rpm/Packages.db: rpm NDB database (usr/lib/sysimage/rpm/Packages.db) is not read",
    ] {
        assert!(all.contains(expected), "{expected:?} not in\n{all}");
    }
    assert_eq!(problems.len(), 6, "{all}");
}

/// The NTIA checker's verdict on an SPDX document, when the validators are installed.
fn ntia_conformant(dir: &Path, spdx: &[u8]) -> Option<bool> {
    let bin = validators()?;
    let path = dir.join("ntia.spdx.json");
    std::fs::write(&path, spdx).unwrap();
    let out = Process::new(bin.join("ntia-checker"))
        .args(["-c", "ntia", "--file"])
        .arg(&path)
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&out.stdout).contains("Conformant: True"))
}

const SUPPLIER: &str = "Organization: Example Corp (sbom@example.com)";
const CREATOR: &str = "Person: Jane Doe (jane@example.com)";

/// A folder is read in place — the store is never even made — and, given a supplier, its SBOM is
/// one the validators accept, in both formats. Without one, sealkit says what the NTIA minimum
/// elements lack (and the checker agrees); a supplier in another form is a usage error naming
/// the accepted forms.
#[test]
fn folder_sbom_names_its_supplier() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\nMaintainer: Santiago \
         Vila <sanvila@debian.org>\n\n",
    )
    .unwrap();
    std::fs::write(root.join("var/lib/dpkg/info/hello.list"), "/.\n/usr\n/usr/bin/hello\n").unwrap();
    std::fs::copy("/bin/true", root.join("usr/bin/hello")).unwrap();
    let store = tmp.path().join("store");
    let dir = format!("dir:{}", root.display());
    let sbom = |format: &str, extra: &[&str]| {
        sealkit(&store)
            .args(["sbom", &dir, "--format", format])
            .args(extra)
            .assert()
            .success()
            .get_output()
            .clone()
    };

    let named = ["--supplier", SUPPLIER, "--creator", CREATOR];
    let spdx = sbom("spdx-json", &named);
    assert!(!String::from_utf8_lossy(&spdx.stderr).contains("warning"));
    let doc: serde_json::Value = serde_json::from_slice(&spdx.stdout).unwrap();
    assert_eq!(doc["packages"][0]["name"], dir);
    assert_eq!(doc["packages"][0]["supplier"], SUPPLIER);
    assert_eq!(doc["creationInfo"]["creators"][1], CREATOR);
    let cdx = sbom("cyclonedx-json", &named);
    let cdx_doc: serde_json::Value = serde_json::from_slice(&cdx.stdout).unwrap();
    let supplier = serde_json::json!({"name": "Example Corp", "contact": [{"email": "sbom@example.com"}]});
    assert_eq!(cdx_doc["metadata"]["supplier"], supplier);
    assert_eq!(cdx_doc["metadata"]["component"]["supplier"], supplier);
    assert_eq!(
        cdx_doc["metadata"]["authors"],
        serde_json::json!([{"name": "Jane Doe", "email": "jane@example.com"}])
    );
    assert_valid(tmp.path(), "folder", &spdx.stdout, &cdx.stdout);
    assert!(!store.exists(), "a folder is read in place, not imported");

    let anonymous = sbom("spdx-json", &[]);
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: the SBOM names no supplier for {dir}, which the NTIA minimum elements require"
        )),
        "{stderr}"
    );
    assert_ne!(
        ntia_conformant(tmp.path(), &anonymous.stdout),
        Some(true),
        "the checker agrees"
    );

    for bad in ["Example Corp", "Tool: sealkit", "Person: Jane (no address)"] {
        let out = sealkit(&store)
            .args(["sbom", &dir, "--supplier", bad])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(r#"write "Organization: NAME" or "Person: NAME (EMAIL)""#),
            "{stderr}"
        );
    }
}

/// The OS image's supplier: by default the organisation all its images' names share (the demo's
/// are all `sealkit-fixtures/…`); recorded in the lock with `sealkit lock --supplier`, kept when
/// it is locked again, and in the image's own /sbom.spdx.json as in `sealkit sbom FILE.yml`, both
/// accepted by the validators.
#[test]
fn built_image_sbom_names_its_supplier() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, yaml)) = common::demo(tmp.path(), &common::DEMO_IMAGES) else {
        return;
    };
    let lock = |extra: &[&str]| {
        sealkit(&store)
            .arg("lock")
            .arg(&yaml)
            .arg("--offline")
            .args(extra)
            .assert()
            .success();
    };
    lock(&[]);
    let by_names = sbom(&store, yaml.to_str().unwrap(), "spdx-json");
    let doc: serde_json::Value = serde_json::from_slice(&by_names).unwrap();
    assert_eq!(doc["packages"][0]["supplier"], "Organization: sealkit-fixtures");

    lock(&["--supplier", SUPPLIER, "--creator", CREATOR]);
    lock(&[]);
    let pinned: serde_json::Value =
        serde_json::from_slice(&std::fs::read(yaml.with_extension("lock.json")).unwrap()).unwrap();
    assert_eq!(
        pinned["sbom"],
        serde_json::json!({"supplier": SUPPLIER, "creators": [CREATOR]})
    );

    let out = tmp.path().join("out");
    let built = sealkit(&store)
        .args(["build", "--format", "tar", "-o"])
        .arg(&out)
        .arg(&yaml)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&built.stderr).contains("warning"));
    let embedded = run(
        "tar",
        Process::new("tar")
            .arg("-xOf")
            .arg(out.join("demo.tar"))
            .arg("sbom.spdx.json"),
    );
    let doc: serde_json::Value = serde_json::from_str(&embedded).unwrap();
    assert_eq!(doc["packages"][0]["supplier"], SUPPLIER);
    assert_eq!(doc["creationInfo"]["creators"][1], CREATOR);
    let Some(bin) = validators() else { return };
    let path = tmp.path().join("embedded.spdx.json");
    std::fs::write(&path, &embedded).unwrap();
    let check = run(
        "ntia-checker",
        Process::new(bin.join("ntia-checker"))
            .args(["-c", "ntia", "--file"])
            .arg(&path),
    );
    assert!(check.contains("Conformant: True"), "{check}");
    let spdx = sbom(&store, yaml.to_str().unwrap(), "spdx-json");
    let cdx = sbom(&store, yaml.to_str().unwrap(), "cyclonedx-json");
    assert_valid(tmp.path(), "demo", &spdx, &cdx);
    let out = run(
        "pyspdxtools",
        Process::new(bin.join("pyspdxtools")).arg("-i").arg(&path),
    );
    assert!(out.is_empty(), "{out}");
}
