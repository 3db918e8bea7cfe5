//! The evidence document (`sealkit scan --format json`): every problem examples/insecure.yml
//! plants shows as a fact and none shows on examples/demo.yml, and every document sealkit writes
//! validates against docs/evidence.schema.json (checked by Python's jsonschema, which no one here
//! wrote).

mod common;

use std::path::Path;
use std::process::Command;

use common::{DEMO_IMAGES, fixture_layouts, import_fixtures, locked_example, sealkit};
use serde_json::Value;

fn validator() -> Option<std::path::PathBuf> {
    let python = Path::new(&std::env::var("SEALKIT_VALIDATORS").ok()?).join("python");
    python.exists().then_some(python)
}

/// The schema's verdict on `doc`: the errors jsonschema finds (empty when valid).
fn schema_errors(doc: &Value) -> Vec<String> {
    let Some(python) = validator() else {
        panic!("SEALKIT_VALIDATORS is not set: scripts/test installs the validators");
    };
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/evidence.schema.json");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.json");
    std::fs::write(&file, serde_json::to_vec(doc).unwrap()).unwrap();
    let out = Command::new(python)
        .args([
            "-c",
            "import json,sys,jsonschema\n\
             s=json.load(open(sys.argv[1]))\n\
             jsonschema.Draft202012Validator.check_schema(s)\n\
             v=jsonschema.Draft202012Validator(s)\n\
             for e in v.iter_errors(json.load(open(sys.argv[2]))): print(list(e.absolute_path), e.message[:300])",
        ])
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Scans `example` (a file of examples/) against a store holding the fixtures, through its lock:
/// the document, and the table for people.
fn evidence_of(example: &str, images: &[&str]) -> Option<(Value, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let (store, config) = locked_example(tmp.path(), example, images)?;
    let out = sealkit(&store)
        .args(["scan", "--format", "json"])
        .arg(&config)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = sealkit(&store)
        .arg("scan")
        .arg(&config)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    Some((serde_json::from_slice(&out).unwrap(), String::from_utf8(table).unwrap()))
}

fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect()
}

const INSECURE_IMAGES: [&str; 3] = ["kernel", "init", "insecure"];

#[test]
fn every_planted_problem_is_a_fact() {
    let Some((doc, table)) = evidence_of("insecure.yml", &INSECURE_IMAGES) else {
        return;
    };
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    assert_eq!(doc["schema"], "sealkit.dev/evidence/v1");
    let c = component(&doc, "insecure");
    assert_eq!(
        (c["role"].as_str(), c["location"].as_str()),
        (Some("service"), Some("services[0]"))
    );
    // The label asks for everything; the YAML says nothing of it.
    let p = &c["privileges"];
    assert_eq!(p["all_capabilities"], true);
    assert!(strings(&p["capabilities"]).contains(&"CAP_SYS_ADMIN"));
    for ns in ["net", "pid"] {
        assert!(strings(&p["host_namespaces"]).contains(&ns), "host {ns}");
    }
    let root_bind = p["binds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["source"] == "/")
        .unwrap();
    assert_eq!(root_bind["writable"], true);
    assert_eq!(root_bind["sensitive"], "the host's whole root");
    assert_eq!(p["no_new_privileges"], false);
    // The image's files.
    let f = &c["files"];
    let setuid = &f["setuid_setgid"].as_array().unwrap()[0];
    assert_eq!(
        (setuid["setuid"].as_bool(), setuid["uid"].as_u64()),
        (Some(true), Some(0))
    );
    assert!(!f["world_writable"].as_array().unwrap().is_empty());
    assert_eq!(strings(&f["accounts"]["empty_passwords"]), ["root"]);
    assert_eq!(f["sshd"]["permit_root_login"]["value"], "yes");
    assert_eq!(f["sshd"]["permit_empty_passwords"]["value"], "yes");
    // The binary built without hardening.
    let bad = c["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["path"] == "usr/bin/insecure")
        .unwrap();
    assert_eq!(bad["elf"]["hardening"]["pie"]["result"], "fail");
    // The secrets left in the image: each where it is, none of them shown.
    let secrets = c["secrets"]["findings"].as_array().unwrap();
    let found: Vec<(&str, &str)> = secrets
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    for planted in [
        ("root/.ssh/id_ed25519", "private-key"),
        ("root/.ssh/id_ed25519", "credential-file"),
        ("root/.aws/credentials", "aws-access-key-id"),
        ("root/.aws/credentials", "aws-secret-access-key"),
        ("root/.git-credentials", "github-pat"),
        ("root/.git-credentials", "credential-file"),
        ("etc/insecure/app.conf", "generic-secret-assignment"),
    ] {
        assert!(found.contains(&planted), "{planted:?} not in {found:?}");
    }
    assert_eq!(found.len(), 8, "{found:?}"); // and .aws/credentials by its name
    for f in secrets.iter().filter(|f| f["rule"] != "credential-file") {
        let excerpt = f["excerpt"].as_str().unwrap();
        assert!(f["line"].as_u64().is_some(), "{f}");
        assert!(excerpt.contains("*****"), "{excerpt}");
        // The shortest planted secret is 20 characters: no such run survives redaction.
        let longest = excerpt
            .split(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c)))
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest < 16, "{excerpt}");
    }
    assert_eq!(
        secrets
            .iter()
            .find(|f| f["rule"] == "github-pat")
            .map(|f| f["excerpt"].as_str().unwrap()),
        Some("https://sealkit-ci:*****@github.com")
    );
    // The kernel: its configuration from kernel-dev.tar, its command line as the kernel reads it.
    let k = &doc["kernel"];
    assert!(
        k["config"]["source"]
            .as_str()
            .unwrap()
            .starts_with("kernel-dev.tar:usr/src/linux-headers-"),
        "{}",
        k["config"]["source"]
    );
    assert_eq!(k["config"]["arch"], "x86_64");
    assert_eq!(k["config"]["options"]["MODULES"], "y");
    assert!(k["config"]["options"].as_object().unwrap().len() > 1000);
    assert_eq!(k["config_unread"], serde_json::json!([]));
    let effective = &k["cmdline_parsed"]["effective"];
    assert_eq!(effective["nokaslr"], Value::Null);
    assert!(effective.as_object().unwrap().contains_key("nokaslr"));
    assert_eq!(effective["mitigations"], "off");
    assert_eq!(effective["module.sig_enforce"], "0");
    assert_eq!(effective["init"], "/bin/sh");
    assert_eq!(strings(&k["cmdline_parsed"]["consoles"]), ["ttyS0"]);
    // The table says as much.
    for line in [
        "secrets: 1 aws-access-key-id (root/.aws/credentials) · 1 aws-secret-access-key",
        "1 github-pat (root/.git-credentials) · 1 private-key (root/.ssh/id_ed25519)",
        "nokaslr mitigations=off module.sig_enforce=0 init=/bin/sh\" (6 parameters)",
        "config: kernel-dev.tar:usr/src/linux-headers-",
        "== files section (2 entries)\n  secrets: 1 github-pat (etc/deploy/token)",
    ] {
        assert!(table.contains(line), "{line} not in\n{table}");
    }
    // The files section's world-writable entry, as written; the token another entry writes is
    // found where it will be, and is nowhere in the document.
    assert_eq!(doc["files_section"][0]["mode"], "0666");
    assert_eq!(doc["files_section"][1]["contents"], "GITHUB_TOKEN=*****\n");
    let written = &doc["files_secrets"]["findings"];
    assert_eq!(
        (&written[0]["path"], &written[0]["rule"], &written[0]["line"]),
        (
            &Value::from("etc/deploy/token"),
            &Value::from("github-pat"),
            &Value::from(1)
        )
    );
    assert_eq!(written.as_array().unwrap().len(), 1, "{written}");
    assert!(!doc.to_string().contains("TESTONLYsealkitPlanted"));
    // Inputs: the configuration and its lock, with their digests.
    let inputs = doc["subject"]["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert!(inputs[1]["path"].as_str().unwrap().ends_with("insecure.lock.json"));
}

#[test]
fn the_demo_has_none_of_them() {
    let Some((doc, table)) = evidence_of("demo.yml", &DEMO_IMAGES) else {
        return;
    };
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    // Six components and the files section.
    assert_eq!(table.matches("  secrets: none in ").count(), 7, "{table}");
    assert_eq!(doc["files_secrets"]["findings"], serde_json::json!([]));
    for c in doc["components"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        if let Some(p) = c.get("privileges") {
            assert_eq!(p["all_capabilities"], false, "{name}");
            assert!(
                !p["binds"].as_array().unwrap().iter().any(|b| b["source"] == "/"),
                "{name} binds the host's root"
            );
        }
        let f = &c["files"];
        assert!(f["world_writable"].as_array().unwrap().is_empty(), "{name}");
        assert!(
            f["accounts"]["empty_passwords"].as_array().unwrap().is_empty(),
            "{name}"
        );
        if let Some(sshd) = f.get("sshd") {
            assert_ne!(sshd["permit_root_login"]["value"], "yes", "{name}");
            assert_eq!(sshd["permit_empty_passwords"]["value"], "no", "{name}");
        }
        for b in c["binaries"].as_array().unwrap() {
            assert_ne!(b["path"], "usr/bin/insecure");
        }
        assert_eq!(c["secrets"]["findings"], serde_json::json!([]), "{name}");
        assert_eq!(c["secrets"]["notes"], serde_json::json!([]), "{name}");
        assert!(c["secrets"]["files"].as_u64().unwrap() > 0, "{name}: nothing scanned");
    }
    // The same kernel, read the same way; a command line that weakens nothing.
    let k = &doc["kernel"];
    assert!(k["config"]["options"].as_object().unwrap().len() > 1000);
    let effective = k["cmdline_parsed"]["effective"].as_object().unwrap();
    for weakening in ["nokaslr", "mitigations", "module.sig_enforce", "init"] {
        assert!(!effective.contains_key(weakening), "{weakening}");
    }
    // hello runs unprivileged, as its label says.
    let hello = &component(&doc, "hello")["privileges"];
    assert_eq!(
        (hello["runs_as_root"].as_bool(), hello["no_new_privileges"].as_bool()),
        (Some(false), Some(true))
    );
}

/// A kernel image scanned alone: its configuration, and no command line (that is the
/// configuration's); the folder-less document validates too.
#[test]
fn a_kernel_image_alone_shows_its_configuration() {
    let Some(layouts) = fixture_layouts(&["kernel"]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    import_fixtures(&store, &layouts, &["kernel"]);
    let out = sealkit(&store)
        .args(["scan", "--format", "json", "sealkit-fixtures/kernel:1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    let k = &doc["kernel"];
    assert_eq!(k["image"], "sealkit-fixtures/kernel:1");
    assert!(k.get("cmdline").is_none() && k.get("cmdline_parsed").is_none());
    assert_eq!(k["config"]["options"]["MODULES"], "y");
    let table = sealkit(&store)
        .args(["scan", "sealkit-fixtures/kernel:1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains("config: kernel-dev.tar:usr/src/linux-headers-"),
        "{table}"
    );
}

#[test]
fn the_schema_refuses_what_it_does_not_describe() {
    let Some((mut doc, _)) = evidence_of("demo.yml", &DEMO_IMAGES) else {
        return;
    };
    doc["components"][0]["role"] = "sidecar".into();
    doc["components"][0]["files"]["surprise"] = true.into();
    doc.as_object_mut().unwrap().remove("subject");
    // A finding that carries the secret, and a kernel option that is not a string.
    doc["components"][1]["secrets"]["findings"] = serde_json::json!([{
        "path": "a", "line": 1, "rule": "github-pat", "category": "GitHub",
        "severity": "CRITICAL", "excerpt": "*****", "secret": "ghp_"
    }]);
    doc["kernel"]["config"]["options"]["MODULES"] = true.into();
    let errors = schema_errors(&doc);
    assert_eq!(errors.len(), 5, "{errors:#?}");
}

/// `scan dir:PATH` reads the folder in place (no store is made) and gives the evidence document,
/// valid against the schema, with the same facts as the image an import of the folder makes:
/// only what names the source differs (a listing digest instead of a manifest, role `folder`).
#[test]
fn a_folder_gives_the_same_evidence_as_its_image() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    for dir in ["etc/ssh", "usr/bin", "var/lib/dpkg/info", "tmp"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let write = |path: &str, text: &str, mode: u32| {
        std::fs::write(root.join(path), text).unwrap();
        std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    };
    write(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n",
        0o644,
    );
    write("etc/shadow", "root::19000:0:99999:7:::\ntoor:*:19000::::::\n", 0o640);
    write("etc/ssh/sshd_config", "PermitRootLogin yes\n", 0o644);
    write("etc/world", "anyone may write this\n", 0o666);
    write(
        "var/lib/dpkg/status",
        "Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\n\n",
        0o644,
    );
    std::fs::copy("/bin/true", root.join("usr/bin/true")).unwrap();
    std::fs::set_permissions(root.join("usr/bin/true"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let folder = format!("dir:{}", root.display());
    let scan = |store: &Path, subject: &str| -> Value {
        let out = sealkit(store)
            .args(["scan", "--format", "json", subject])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };

    let store = tmp.path().join("store");
    let from_folder = scan(&store, &folder);
    assert!(!store.exists(), "a folder is read in place, not imported");
    sealkit(&store)
        .args(["image", "import", &folder, "--tag", "x/folder:1"])
        .assert()
        .success();
    let from_image = scan(&store, "x/folder:1");
    for doc in [&from_folder, &from_image] {
        assert_eq!(schema_errors(doc), Vec::<String>::new(), "{doc:#}");
    }

    assert_eq!(from_folder["subject"]["kind"], "folder");
    let (mut f, mut i) = (
        from_folder["components"][0].clone(),
        from_image["components"][0].clone(),
    );
    assert_eq!(
        (f["role"].as_str(), i["role"].as_str()),
        (Some("folder"), Some("image"))
    );
    let listing = f["image"]["listing"].as_str().unwrap().to_owned();
    assert!(listing.starts_with("sha256:") && f["image"].get("manifest").is_none());
    for c in [&mut f, &mut i] {
        let c = c.as_object_mut().unwrap();
        for key in ["role", "name", "image"] {
            c.remove(key);
        }
    }
    assert_eq!(f, i);
    // And the facts are there.
    assert_eq!(strings(&f["files"]["accounts"]["uid0"]), ["root", "toor"]);
    assert_eq!(strings(&f["files"]["accounts"]["empty_passwords"]), ["root"]);
    assert_eq!(f["files"]["sshd"]["permit_root_login"]["value"], "yes");
    assert_eq!(f["files"]["setuid_setgid"][0]["path"], "usr/bin/true");
    assert_eq!(f["files"]["world_writable"].as_array().unwrap().len(), 1, "{f:#}");
    assert_eq!(f["packages"][0]["name"], "hello");
    assert_eq!(f["binaries"][0]["path"], "usr/bin/true");
}
