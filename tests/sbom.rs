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
    let out = Process::new("dpkg-query")
        .arg(format!("--admindir={}", root.join("var/lib/dpkg").display()))
        .args(["-W", "-f", "${Package}\t${Version}\t${Architecture}\n"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg-query: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        root,
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// pyspdxtools reports nothing and the NTIA checker says conformant; the CycloneDX validates
/// against the 1.6 schema.
fn assert_valid(bin: &Path, spdx: &Path, cdx: &Path) {
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

    let Some(bin) = validators() else { return };
    let spdx_path = tmp.path().join("sshd.spdx.json");
    let cdx_path = tmp.path().join("sshd.cdx.json");
    std::fs::write(&spdx_path, &spdx).unwrap();
    std::fs::write(&cdx_path, &cdx).unwrap();
    assert_valid(&bin, &spdx_path, &cdx_path);
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
    let Some(layout) = sshd_layout() else { return };
    let oci = layout.parent().unwrap().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    for image in ["kernel", "init", "getty", "sshd", "hello", "selftest"] {
        sealkit(&store)
            .args([
                "image",
                "import",
                &format!("oci:{}:1", oci.join(image).display()),
                "--tag",
                &format!("sealkit-fixtures/{image}:1"),
            ])
            .assert()
            .success();
    }
    let yaml = tmp.path().join("demo.yml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.yml"), &yaml).unwrap();
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
    let Some(bin) = validators() else { return };
    let spdx_path = tmp.path().join("demo.spdx.json");
    let cdx_path = tmp.path().join("demo.cdx.json");
    std::fs::write(&spdx_path, &spdx).unwrap();
    std::fs::write(&cdx_path, sbom(&store, yaml.to_str().unwrap(), "cyclonedx-json")).unwrap();
    assert_valid(&bin, &spdx_path, &cdx_path);
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
    if let Some(bin) = validators() {
        let (spdx_file, cdx_file) = (tmp.path().join("a.spdx.json"), tmp.path().join("a.cdx.json"));
        std::fs::write(&spdx_file, spdx.to_string()).unwrap();
        std::fs::write(&cdx_file, cdx_doc.to_string()).unwrap();
        assert_valid(&bin, &spdx_file, &cdx_file);
    }

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
