//! Trusting the inputs (docs/trust.md): component images' cosign signatures, written by
//! `sealkit image sign`, found where cosign keeps them (a real docker-registry on 127.0.0.1,
//! the store, skopeo's directory layout), judged by a containers-policy.json before anything
//! of the image is used. Each tamper case is refused with its reason.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::registry::{Registry, require, skopeo, start_registry};
use common::{DEMO_IMAGES, fixture_layouts, import_fixtures, keypair, sealkit};

fn run(store: &Path, args: &[&str]) -> Output {
    sealkit(store).args(args).output().unwrap()
}

fn said(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A policy that rejects everything but `scope` (of `transport`), which needs a signature by
/// `key` under `identity`.
fn policy(path: &Path, transport: &str, scope: &str, key: &Path, identity: &str) -> PathBuf {
    let doc = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {transport: {scope: [{
            "type": "sigstoreSigned",
            "keyPath": key,
            "signedIdentity": serde_json::from_str::<serde_json::Value>(identity).unwrap(),
        }]}},
    });
    std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path.to_path_buf()
}

fn verify(store: &Path, reference: &str, policy: &Path) -> Output {
    run(
        store,
        &[
            "image",
            "verify",
            reference,
            "--trust-policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ],
    )
}

fn verdict(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(out)))
}

/// What the requirements that were not met say, in one text.
fn reasons(out: &Output) -> String {
    verdict(out)["verdict"]["requirements"].to_string()
}

struct Published {
    registry: Registry,
    tmp: tempfile::TempDir,
    layouts: PathBuf,
}

impl Published {
    /// The digest `REGISTRY/image` names now, as skopeo (which no one here wrote) reads it.
    fn digest(&self, image: &str) -> String {
        skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            &format!("docker://{image}"),
        ])
        .trim()
        .to_owned()
    }

    /// The manifest under `repository:tag`, as skopeo reads it.
    fn raw(&self, repository: &str, tag: &str) -> serde_json::Value {
        let raw = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!("docker://{}:{tag}", self.at(repository)),
        ]);
        serde_json::from_str(&raw).unwrap()
    }

    /// Copies `from_repository:tag` to `to_repository:to_tag` with skopeo, as anyone with write
    /// access to the registry could.
    fn copy(&self, from_repository: &str, tag: &str, to_repository: &str, to_tag: &str) {
        skopeo(&[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{}:{tag}", self.at(from_repository)),
            &format!("docker://{}:{to_tag}", self.at(to_repository)),
        ]);
    }

    fn store(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn at(&self, repository: &str) -> String {
        format!("{}/{repository}", self.registry.address)
    }

    /// Pushes the fixture `image` from a store of its own to `REGISTRY/repository`.
    fn push(&self, image: &str, repository: &str) {
        let store = self.store(&format!("push-{image}"));
        import_fixtures(&store, &self.layouts, &[image]);
        let out = run(
            &store,
            &[
                "image",
                "push",
                &format!("sealkit-fixtures/{image}:1"),
                &self.at(repository),
            ],
        );
        assert!(out.status.success(), "{}", said(&out));
    }
}

fn published() -> Option<Published> {
    if !require("docker-registry") || !require("skopeo") {
        return None;
    }
    let layouts = fixture_layouts(&["hello", "getty"])?;
    Some(Published {
        registry: start_registry(None),
        tmp: tempfile::tempdir().unwrap(),
        layouts,
    })
}

#[test]
fn a_signature_pushed_to_a_registry_is_seen_by_skopeo_and_verified_back() {
    let Some(p) = published() else { return };
    let signer = p.store("signer");
    let (key, public) = keypair(&signer, p.tmp.path(), "team");
    let (_, other_public) = keypair(&signer, p.tmp.path(), "other");
    let hello = p.at("team/hello:1");
    p.push("hello", "team/hello:1");

    let signed = run(
        &signer,
        &["image", "sign", &hello, "--key", key.to_str().unwrap(), "--push"],
    );
    assert!(signed.status.success(), "{}", said(&signed));
    let digest = p.digest(&hello);
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    // skopeo, which no one here wrote, sees cosign's tag and the simple-signing layer in it.
    let manifest = p.raw("team/hello", &tag);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(layers[0]["annotations"]["dev.cosignproject.cosign/signature"].is_string());

    // The same signature as cosign v3 writes it: a Sigstore bundle referring to the image,
    // listed under the referrers tag (docker-registry 2.8 has no referrers API), which
    // @sigstore/verify accepts for the image's manifest.
    let index = p.raw("team/hello", digest.replace(':', "-").as_str());
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json",
        "{index}"
    );
    assert_eq!(
        entry["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let copied = p.tmp.path().join("referrer");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}@{}", p.at("team/hello"), entry["digest"].as_str().unwrap()),
        &format!("dir:{}", copied.display()),
    ]);
    let referrer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copied.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(referrer["subject"]["digest"], digest.as_str(), "{referrer}");
    let bundle = copied.join(
        referrer["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let image_dir = p.tmp.path().join("image");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{hello}"),
        &format!("dir:{}", image_dir.display()),
    ]);
    let manifest_file = image_dir.join("manifest.json");
    assert_eq!(common::sha256(&std::fs::read(&manifest_file).unwrap()), digest);
    if let Some(js) = common::sigstore_js() {
        let out = std::process::Command::new("node")
            .arg(common::peers().join("sigstore-verify/verify-bundle.mjs"))
            .arg(&js)
            .arg(&public)
            .arg(&manifest_file)
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(out.status.success(), "@sigstore/verify: {}", said(&out));
    }

    // A fresh store pulls the image with its signature and accepts it under the team's key.
    let team_policy = policy(
        &p.tmp.path().join("team.json"),
        "docker",
        &p.at("team"),
        &public,
        r#"{"type":"matchRepoDigestOrExact"}"#,
    );
    let reader = p.store("reader");
    let out = verify(&reader, &hello, &team_policy);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let v = verdict(&out);
    assert_eq!(v["signed_digest"], digest);
    assert_eq!(v["signatures_found"], 1);
    assert_eq!(v["verdict"]["accepted"], true);
    assert_eq!(v["verdict"]["scope"], format!("transports.docker.{:?}", p.at("team")));
    assert_eq!(
        v["verdict"]["requirements"][0]["signatures"][0]["signed_reference"],
        hello
    );
    // The pull also kept the bundle referring to the image. It names the repository, not the
    // tag, so the default identity does not take it; matchRepository takes both.
    assert_eq!(v["bundles_found"], 1);
    let rejected = v["verdict"]["requirements"][0]["rejected"].to_string();
    assert!(
        rejected.contains("bundle 1:") && rejected.contains("signedIdentity"),
        "{v}"
    );
    let by_repository = policy(
        &p.tmp.path().join("team-repository.json"),
        "docker",
        &p.at("team"),
        &public,
        r#"{"type":"matchRepository"}"#,
    );
    let out = verify(&reader, &hello, &by_repository);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let accepted = &verdict(&out)["verdict"]["requirements"][0]["signatures"];
    assert_eq!(accepted.as_array().map(Vec::len), Some(2), "{accepted}");
    assert_eq!(accepted[1]["signed_reference"], p.at("team/hello"));
    let table = run(
        &reader,
        &[
            "image",
            "verify",
            &hello,
            "--trust-policy",
            team_policy.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&table.stdout).starts_with("ACCEPTED"),
        "{}",
        said(&table)
    );

    // Signed by a key the policy does not name.
    let other_policy = policy(
        &p.tmp.path().join("other.json"),
        "docker",
        &p.at("team"),
        &other_public,
        r#"{"type":"matchRepoDigestOrExact"}"#,
    );
    let out = verify(&reader, &hello, &other_policy);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        reasons(&out).contains("not signed by any trusted key"),
        "{}",
        said(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DENIED"),
        "{}",
        said(&out)
    );

    // The signature copied to another repository, beside the same image: the payload names
    // the team's repository, which the default identity does not accept for another one.
    p.push("hello", "elsewhere/hello:1");
    p.copy("team/hello", &tag, "elsewhere/hello", &tag);
    let elsewhere_policy = policy(
        &p.tmp.path().join("elsewhere.json"),
        "docker",
        &p.at("elsewhere"),
        &public,
        r#"{"type":"matchRepoDigestOrExact"}"#,
    );
    let out = verify(&p.store("elsewhere"), &p.at("elsewhere/hello:1"), &elsewhere_policy);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        reasons(&out).contains(&format!("it was signed as {hello}")),
        "{}",
        said(&out)
    );

    // Outside every scope the policy names, its default rejects the image, signed or not.
    let out = verify(&p.store("elsewhere"), &p.at("elsewhere/hello:1"), &team_policy);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert_eq!(verdict(&out)["verdict"]["scope"], "default");
    assert!(reasons(&out).contains("rejects every image"), "{}", said(&out));

    // The tag moved to another image: the signatures are of the old digest.
    p.push("getty", "team/hello:1");
    let out = verify(&p.store("after-move"), &hello, &team_policy);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(reasons(&out).contains("no sigstore signature"), "{}", said(&out));

    // A second signature is appended, not put in place of the first.
    let (second, _) = keypair(&signer, p.tmp.path(), "second");
    let out = run(
        &signer,
        &[
            "image",
            "sign",
            &p.at("team/hello:1"),
            "--key",
            second.to_str().unwrap(),
            "--push",
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    let moved_digest = p.digest(&hello);
    let moved_tag = format!("sha256-{}.sig", moved_digest.trim_start_matches("sha256:"));
    let out = run(
        &signer,
        &["image", "sign", &hello, "--key", key.to_str().unwrap(), "--push"],
    );
    assert!(out.status.success(), "{}", said(&out));
    let manifest = p.raw("team/hello", &moved_tag);
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2, "{manifest}");
    let out = verify(&p.store("after-resign"), &hello, &team_policy);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(verdict(&out)["signatures_found"], 2);
}

/// A policy for `REGISTRY/team`: signed by `team`, and carrying the attestations `required`
/// (sealkit's extension, docs/trust.md).
fn policy_with_attestations(path: &Path, p: &Published, team: &Path, required: serde_json::Value) -> PathBuf {
    let doc = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {"docker": {p.at("team"): [{"type": "sigstoreSigned", "keyPath": team}]}},
        "sealkit": {"requiredAttestations": {"docker": {p.at("team"): required}}},
    });
    std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path.to_path_buf()
}

#[test]
fn required_attestations_are_checked_by_key_subject_builder_and_source() {
    let Some(p) = published() else { return };
    let signer = p.store("signer");
    let (team, team_public) = keypair(&signer, p.tmp.path(), "team");
    let (builder, builder_public) = keypair(&signer, p.tmp.path(), "builder");
    let hello = p.at("team/hello:1");
    let getty = p.at("team/getty:1");
    p.push("hello", "team/hello:1");
    p.push("getty", "team/getty:1");
    let provenance = p.tmp.path().join("provenance.json");
    std::fs::write(
        &provenance,
        r#"{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{"workflow":{"repository":"https://github.com/example/hello","ref":"refs/heads/main"}}},"runDetails":{"builder":{"id":"https://example.com/builder@v1"}}}"#,
    )
    .unwrap();
    for image in [&hello, &getty] {
        let out = run(
            &signer,
            &["image", "sign", image, "--key", team.to_str().unwrap(), "--push"],
        );
        assert!(out.status.success(), "{}", said(&out));
        let out = run(
            &signer,
            &[
                "image",
                "attest",
                image,
                "--key",
                builder.to_str().unwrap(),
                "--predicate",
                provenance.to_str().unwrap(),
                "--type",
                "slsaprovenance1",
                "--push",
            ],
        );
        assert!(out.status.success(), "{}", said(&out));
    }
    let digest = p.digest(&hello);
    let att_tag = format!("sha256-{}.att", digest.trim_start_matches("sha256:"));
    let manifest = p.raw("team/hello", &att_tag);
    assert_eq!(
        manifest["layers"][0]["mediaType"], "application/vnd.dsse.envelope.v1+json",
        "{manifest}"
    );
    assert_eq!(
        manifest["layers"][0]["annotations"]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );

    let required = |builder_id: &str, key: &Path, predicate: &str| {
        serde_json::json!([{
            "predicateType": predicate,
            "keyPath": key,
            "builderId": builder_id,
            "sourceRepository": "example/hello",
        }])
    };
    const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
    let good = policy_with_attestations(
        &p.tmp.path().join("good.json"),
        &p,
        &team_public,
        required("https://example.com/builder@v1", &builder_public, PROVENANCE),
    );
    let out = verify(&p.store("good"), &hello, &good);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let v = verdict(&out);
    assert_eq!(v["attestations_found"], 1);
    let found = &v["verdict"]["attestations"][0];
    assert_eq!(found["verified"], true, "{found}");
    assert_eq!(found["builder_id"], "https://example.com/builder@v1");
    assert_eq!(found["source_repository"], "https://github.com/example/hello");

    // Each way of not meeting it, refused with the reason.
    for (name, policy, reason) in [
        (
            "builder",
            required("https://example.com/other@v1", &builder_public, PROVENANCE),
            "it names the builder https://example.com/builder@v1, not https://example.com/other@v1",
        ),
        (
            "key",
            required("https://example.com/builder@v1", &team_public, PROVENANCE),
            "not signed by any trusted key",
        ),
        (
            "type",
            required(
                "https://example.com/builder@v1",
                &builder_public,
                "https://spdx.dev/Document",
            ),
            "none of its 3 attestations and bundles is one",
        ),
    ] {
        let path = policy_with_attestations(&p.tmp.path().join(format!("{name}.json")), &p, &team_public, policy);
        let out = verify(&p.store(name), &hello, &path);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", said(&out));
        assert!(reasons(&out).contains(reason), "{name}: {}", said(&out));
    }

    // getty's attestation put under hello's tag: signed by the builder, but about another image,
    // so it is refused. hello's own attestation, in the bundle referrer `image attest --push`
    // also writes (as cosign v3 attests), still meets the requirement.
    let getty_digest = p.digest(&getty);
    let getty_tag = format!("sha256-{}.att", getty_digest.trim_start_matches("sha256:"));
    p.copy("team/getty", &getty_tag, "team/hello", &att_tag);
    let out = verify(&p.store("swapped"), &hello, &good);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let met = verdict(&out)["verdict"]["requirements"][1]["reason"].to_string();
    assert!(met.contains(": bundle ") && met.contains("signed by key"), "{met}");
    assert!(
        reasons(&out).contains(&format!("its subject is {}, not this image's {}", getty_digest, digest)),
        "{}",
        said(&out)
    );
}

/// The demo's images signed in the store, and a trust policy beside the demo requiring the key.
fn signed_demo(tmp: &Path) -> Option<(PathBuf, PathBuf, PathBuf, PathBuf)> {
    let (store, config) = common::demo(tmp, &DEMO_IMAGES)?;
    let (key, public) = keypair(&store, tmp, "fixtures");
    for image in DEMO_IMAGES {
        let out = run(
            &store,
            &[
                "image",
                "sign",
                &format!("sealkit-fixtures/{image}:1"),
                "--key",
                key.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", said(&out));
    }
    let trust = policy(
        &config.with_extension("trust.json"),
        "docker",
        "docker.io/sealkit-fixtures",
        &public,
        r#"{"type":"matchRepoDigestOrExact"}"#,
    );
    Some((store, config, key, trust))
}

#[test]
fn lock_records_the_verified_signatures_and_the_gate_refuses_a_changed_component_before_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config, key, trust)) = signed_demo(tmp.path()) else {
        return;
    };
    let config_text = config.to_str().unwrap();
    let out = run(&store, &["lock", config_text, "--offline"]);
    assert!(out.status.success(), "{}", said(&out));
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.with_extension("lock.json")).unwrap()).unwrap();
    for (reference, pin) in lock["images"].as_object().unwrap() {
        let pinned = pin["signatures"]
            .as_array()
            .unwrap_or_else(|| panic!("{reference}: {pin}"));
        assert_eq!(pinned.len(), 1, "{reference}: {pin}");
        assert!(pinned[0]["payload"].as_str().unwrap().starts_with("sha256:"));
    }

    // The policy found beside the configuration judges every component in the evidence.
    let out = run(&store, &["scan", config_text, "--format", "json"]);
    assert!(out.status.success(), "{}", said(&out));
    let evidence: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for c in evidence["components"].as_array().unwrap() {
        assert_eq!(c["trust"]["verdict"]["accepted"], true, "{}", c["name"]);
    }
    let inputs = evidence["subject"]["inputs"].to_string();
    assert!(inputs.contains("demo.trust.json"), "{inputs}");

    // One component replaced in the store by another image (signed, as itself) under its name. The lock
    // still takes the pinned (signed) image by its digest; without the lock, the trust policy
    // refuses the replacement, and the gate stops before reading anything.
    let layouts = fixture_layouts(&DEMO_IMAGES).unwrap();
    let out = run(
        &store,
        &[
            "image",
            "import",
            &format!("oci:{}:1", layouts.join("getty").display()),
            "--tag",
            "sealkit-fixtures/hello:1",
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    let out = run(&store, &["scan", config_text, "--format", "json"]);
    assert!(out.status.success(), "{}", said(&out));
    let evidence: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for c in evidence["components"].as_array().unwrap() {
        assert_eq!(c["trust"]["verdict"]["accepted"], true, "{}", c["name"]);
    }
    let output = tmp.path().join("out");
    // Without the lock, the trust policy alone refuses the replacement.
    std::fs::remove_file(config.with_extension("lock.json")).unwrap();
    let out = sealkit(&store)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(["gate", config_text, "--key", key.to_str().unwrap(), "-o"])
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DENIED: the trust policy refuses 1 of the images"),
        "{}",
        said(&out)
    );
    assert!(stderr.contains("sealkit-fixtures/hello:1"), "{}", said(&out));
    // getty is signed too, as getty: the signature names another image than the one asked for.
    assert!(
        stderr.contains("it was signed as docker.io/sealkit-fixtures/getty:1"),
        "{}",
        said(&out)
    );
    assert!(!output.exists(), "nothing is written for a refused input");

    // check says the same through the baseline rule.
    let out = run(
        &store,
        &["check", config_text, "--format", "json", "--now", "2026-01-01"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let decision = String::from_utf8_lossy(&out.stdout);
    assert!(decision.contains("SK-TRUST-001"), "{decision}");
    let _ = trust;
}

#[test]
fn a_lock_pinned_signature_that_no_longer_verifies_refuses_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config, _key, trust)) = signed_demo(tmp.path()) else {
        return;
    };
    let config_text = config.to_str().unwrap();
    let out = run(&store, &["lock", config_text, "--offline"]);
    assert!(out.status.success(), "{}", said(&out));
    // The image is signed again by a new key, which the policy now names instead: every image
    // still verifies, but not with the signature the lock pinned.
    let (new_key, new_public) = keypair(&store, tmp.path(), "rotated");
    let out = run(
        &store,
        &[
            "image",
            "sign",
            "sealkit-fixtures/hello:1",
            "--key",
            new_key.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    policy(
        &trust,
        "docker",
        "docker.io/sealkit-fixtures/hello",
        &new_public,
        r#"{"type":"matchRepoDigestOrExact"}"#,
    );
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&trust).unwrap()).unwrap();
    doc["default"] = serde_json::json!([{"type": "insecureAcceptAnything"}]);
    std::fs::write(&trust, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = run(&store, &["scan", config_text, "--format", "json"]);
    assert!(out.status.success(), "{}", said(&out));
    let evidence: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hello = evidence["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["image"]["reference"] == "sealkit-fixtures/hello:1")
        .unwrap();
    let verdict = &hello["trust"]["verdict"];
    assert_eq!(verdict["accepted"], false, "{verdict}");
    let lock = verdict["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["requirement"] == "lock")
        .unwrap();
    assert!(lock["reason"].as_str().unwrap().contains("no longer verify"), "{lock}");
}

#[test]
fn skopeos_directory_layout_is_read_with_its_signatures() {
    let Some(p) = published() else { return };
    let signer = p.store("signer");
    let (key, public) = keypair(&signer, p.tmp.path(), "team");
    let hello = p.at("team/hello:1");
    p.push("hello", "team/hello:1");
    let out = run(
        &signer,
        &["image", "sign", &hello, "--key", key.to_str().unwrap(), "--push"],
    );
    assert!(out.status.success(), "{}", said(&out));
    // skopeo copies the image and, as containers/image does, its sigstore signatures into
    // signature-N files.
    let dir = p.tmp.path().join("carried");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{hello}"),
        &format!("dir:{}", dir.display()),
    ]);
    let carried = std::fs::canonicalize(&dir).unwrap();
    let layout_policy = policy(
        &p.tmp.path().join("dir.json"),
        "dir",
        carried.to_str().unwrap(),
        &public,
        &format!(
            r#"{{"type":"exactRepository","dockerRepository":"{}"}}"#,
            p.at("team/hello")
        ),
    );
    if !dir.join("signature-1").is_file() {
        // Debian's skopeo leaves sigstore attachments behind (sigstore is disabled there):
        // write the signature as containers/image writes it into the layout, from the layer
        // the registry holds. The payload is rebuilt from what it names, and must hash to the
        // layer's digest.
        let digest = p.digest(&hello);
        let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
        let manifest = p.raw("team/hello", &tag);
        let layer = &manifest["layers"][0];
        let payload = serde_json::json!({
            "critical": {
                "identity": {"docker-reference": hello},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": null,
        })
        .to_string();
        assert_eq!(common::sha256(payload.as_bytes()), layer["digest"]);
        use base64::Engine as _;
        let file = serde_json::json!({
            "mimeType": layer["mediaType"],
            "payload": base64::engine::general_purpose::STANDARD.encode(&payload),
            "annotations": layer["annotations"],
        });
        let mut bytes = b"\x00sigstore-json\n".to_vec();
        bytes.extend(serde_json::to_vec(&file).unwrap());
        std::fs::write(dir.join("signature-1"), bytes).unwrap();
    }
    let reader = p.store("reader");
    let reference = format!("dir:{}", carried.display());
    let out = verify(&reader, &reference, &layout_policy);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(
        verdict(&out)["verdict"]["scope"],
        format!("transports.dir.{:?}", carried.to_str().unwrap())
    );
    // Under the default identity the layout has no registry name to match: refused, as in
    // containers/image.
    let by_default = policy(
        &p.tmp.path().join("dir-default.json"),
        "dir",
        carried.to_str().unwrap(),
        &public,
        r#"{"type":"matchRepoDigestOrExact"}"#,
    );
    let out = verify(&reader, &reference, &by_default);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    // The layout is an image, not a root file system: scanning it lists the image's layers.
    let out = run(&reader, &["scan", &reference, "--format", "json"]);
    assert!(out.status.success(), "{}", said(&out));
    let evidence: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evidence["subject"]["kind"], "image", "{}", said(&out));
}

/// A registry that answers 500 on the signature tag: the pull fails with the registry's error
/// after its retries, and nothing is accepted; once it answers, the same pull succeeds.
#[test]
fn a_registry_failing_on_the_signature_tag_is_an_error_never_an_acceptance() {
    let Some(p) = published() else { return };
    p.push("hello", "team/hello:1");
    let proxy = common::registry::faulty_proxy(p.registry.address.clone(), |request_line| {
        request_line.contains(".sig ")
    });
    let allow_all = p.tmp.path().join("allow.json");
    std::fs::write(&allow_all, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let through_proxy = format!("{}/team/hello:1", proxy.address);
    let out = verify(&p.store("reader"), &through_proxy, &allow_all);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(".sig") && stderr.contains("500"), "{}", said(&out));
    assert!(out.stdout.is_empty(), "{}", said(&out));
    let out = verify(&p.store("reader"), &p.at("team/hello:1"), &allow_all);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

#[test]
fn a_bad_trust_policy_is_an_error_naming_where() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"default":[{"type":"reject"}],"transports":{"docker":{"example.com":[{"type":"sigstoreSigned","keyPaht":"k.pub"}]}}}"#,
    )
    .unwrap();
    let out = run(
        &store,
        &[
            "image",
            "verify",
            "example.com/app:1",
            "--trust-policy",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[bad-trust-policy]"), "{stderr}");
    assert!(stderr.contains("example.com") && stderr.contains("keyPaht"), "{stderr}");
    let relative = tmp.path().join("relative.json");
    std::fs::write(
        &relative,
        r#"{"default":[{"type":"reject"}],"transports":{"dir":{"images":[{"type":"reject"}]}}}"#,
    )
    .unwrap();
    let out = run(
        &store,
        &[
            "image",
            "verify",
            "example.com/app:1",
            "--trust-policy",
            relative.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("absolute path"),
        "{}",
        said(&out)
    );
}
