//! Real cosign signatures (containers/image's fixtures, testdata/README.md), each given the
//! outcome containers/image's own tests give it under the same requirement.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::*;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/trust/testdata/containers-image")
}

fn context(base: PathBuf, now: u64) -> Context {
    Context {
        base,
        now,
        sigstore: crate::sigstore::TrustedRoot::production(),
    }
}

/// 2030-01-01T00:00:00Z: when the PKI fixtures' certificates are valid.
const NOW: u64 = 1_893_456_000;

const SINGLE: &str = "192.168.64.2:5000/cosign-signed-single-sample";
const KEY_REKOR: &str = "192.168.64.2:5000/cosign-signed/key-1";

fn image(fixture: &str, reference: &str) -> SignedImage {
    let dir = crate::image::skopeo::read(&data().join(fixture)).unwrap();
    SignedImage {
        transport: Transport::Docker,
        reference: policy::parse_named(reference).unwrap().to_string(),
        manifest_digest: format!("sha256:{}", hex::encode(Sha256::digest(&dir.manifest))),
        signatures: dir.signatures,
        attestations: Vec::new(),
        bundles: Vec::new(),
    }
}

/// A policy whose default is one sigstoreSigned requirement with `fields`.
fn sigstore(fields: &str) -> TrustPolicy {
    TrustPolicy::parse(
        format!(r#"{{"default":[{{"type":"sigstoreSigned",{fields}}}]}}"#).as_bytes(),
        "policy.json",
    )
    .unwrap()
}

const BY_REPOSITORY: &str = r#""signedIdentity":{"type":"matchRepository"}"#;

fn verdict(fields: &str, image: &SignedImage) -> Verdict {
    judge(&sigstore(fields), &context(data(), NOW), image)
}

fn accepted(fields: &str, image: &SignedImage) -> bool {
    let v = verdict(fields, image);
    assert_eq!(v.accepted, v.requirements.iter().all(|o| o.met));
    v.accepted
}

#[test]
fn a_cosign_signature_is_accepted_with_its_key_in_any_form() {
    let valid = image("dir-img-cosign-valid", SINGLE);
    let pem = std::fs::read(data().join("cosign.pub")).unwrap();
    let pem2 = std::fs::read(data().join("cosign2.pub")).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    for keys in [
        r#""keyPath":"cosign.pub""#.to_owned(),
        r#""keyPaths":["cosign.pub","cosign2.pub"]"#.to_owned(),
        r#""keyPaths":["cosign2.pub","cosign.pub"]"#.to_owned(),
        format!(r#""keyData":"{}""#, b64(&pem)),
        format!(r#""keyDatas":["{}","{}"]"#, b64(&pem2), b64(&pem)),
    ] {
        assert!(accepted(&format!("{keys},{BY_REPOSITORY}"), &valid), "{keys}");
    }
    let v = verdict(&format!(r#""keyPath":"cosign.pub",{BY_REPOSITORY}"#), &valid);
    let signed = &v.requirements[0].signatures[0];
    assert_eq!(signed.signed_reference, SINGLE);
    assert_eq!(signed.logged_at, None);
    assert_eq!(signed.log_entry, "none");
    assert_eq!(v.scope, "default");
}

#[test]
fn another_key_an_invalid_signature_and_an_unknown_signer_are_refused() {
    let valid = image("dir-img-cosign-valid", SINGLE);
    let v = verdict(&format!(r#""keyPath":"cosign2.pub",{BY_REPOSITORY}"#), &valid);
    assert!(!v.accepted);
    assert_eq!(
        v.requirements[0].rejected,
        ["signature 1: not signed by any trusted key"]
    );
    let mut forged = image("dir-img-cosign-valid", SINGLE);
    if let Ok(sig) = &mut forged.signatures[0] {
        sig.annotations.insert(
            cosign::SIGNATURE_ANNOTATION.into(),
            base64::engine::general_purpose::STANDARD.encode("invalid signature"),
        );
    }
    assert!(!accepted(
        &format!(r#""keyPath":"cosign.pub",{BY_REPOSITORY}"#),
        &forged
    ));
    let unknown = std::fs::read(data().join("unknown-cosign-key.signature")).unwrap();
    let mut other = image("dir-img-cosign-valid", SINGLE);
    other.signatures = vec![cosign::Signature::from_sigstore_file(&unknown)];
    assert!(!accepted(&format!(r#""keyPath":"cosign.pub",{BY_REPOSITORY}"#), &other));
}

#[test]
fn a_rekor_entry_is_checked_when_the_policy_names_rekor() {
    let logged = image("dir-img-cosign-key-rekor-valid", KEY_REKOR);
    for (keys, rekor) in [
        (r#"["cosign2.pub"]"#, r#"["rekor.pub"]"#),
        (r#"["cosign2.pub","cosign.pub"]"#, r#"["rekor.pub","cosign.pub"]"#),
        (r#"["cosign.pub","cosign2.pub"]"#, r#"["cosign.pub","rekor.pub"]"#),
    ] {
        let fields = format!(r#""keyPaths":{keys},"rekorPublicKeyPaths":{rekor},{BY_REPOSITORY}"#);
        let v = verdict(&fields, &logged);
        assert!(v.accepted, "{fields}: {v:?}");
        assert!(v.requirements[0].signatures[0].logged_at.is_some());
        assert_eq!(v.requirements[0].signatures[0].log_entry, "checked");
    }
    // Without a Rekor key, the entry it carries is said not to have been checked.
    let unchecked = verdict(&format!(r#""keyPath":"cosign2.pub",{BY_REPOSITORY}"#), &logged);
    assert_eq!(unchecked.requirements[0].signatures[0].log_entry, "not checked");
    assert_eq!(unchecked.requirements[0].signatures[0].logged_at, None);
    // Rekor's key is not cosign.pub: the entry's timestamp does not verify.
    let wrong_log = format!(r#""keyPath":"cosign2.pub","rekorPublicKeyPath":"cosign.pub",{BY_REPOSITORY}"#);
    assert!(!accepted(&wrong_log, &logged));
    let with_rekor = format!(r#""keyPath":"cosign2.pub","rekorPublicKeyPath":"rekor.pub",{BY_REPOSITORY}"#);
    let mut unlogged = image("dir-img-cosign-key-rekor-valid", KEY_REKOR);
    if let Ok(sig) = &mut unlogged.signatures[0] {
        sig.annotations.remove(cosign::BUNDLE_ANNOTATION);
    }
    let v = verdict(&with_rekor, &unlogged);
    assert!(v.requirements[0].rejected[0].contains("no Rekor entry"), "{v:?}");
    let mut garbage = image("dir-img-cosign-key-rekor-valid", KEY_REKOR);
    if let Ok(sig) = &mut garbage.signatures[0] {
        sig.annotations
            .insert(cosign::BUNDLE_ANNOTATION.into(), "this is not a valid SET".into());
    }
    assert!(!accepted(&with_rekor, &garbage));
    // A valid entry, but for another signature (by the other key).
    let mut swapped = image("dir-img-cosign-valid", SINGLE);
    let set = logged.signatures[0].as_ref().unwrap().annotations[cosign::BUNDLE_ANNOTATION].clone();
    if let Ok(sig) = &mut swapped.signatures[0] {
        sig.annotations.insert(cosign::BUNDLE_ANNOTATION.into(), set);
    }
    let both = format!(r#""keyPaths":["cosign.pub","cosign2.pub"],"rekorPublicKeyPath":"rekor.pub",{BY_REPOSITORY}"#);
    let v = verdict(&both, &swapped);
    assert!(!v.accepted);
    assert!(v.requirements[0].rejected[0].contains("another"), "{v:?}");
}

#[test]
fn what_a_signature_names_must_be_this_image() {
    let with_key = format!(r#""keyPath":"cosign.pub",{BY_REPOSITORY}"#);
    let v = verdict(&with_key, &image("dir-img-cosign-modified-manifest", SINGLE));
    assert!(!v.accepted);
    assert!(
        v.requirements[0].rejected[0].contains("it signs manifest sha256:"),
        "{v:?}"
    );
    assert!(!accepted(
        &with_key,
        &image("dir-img-cosign-manifest-digest-error", SINGLE)
    ));
    assert!(crate::image::skopeo::read(&data().join("dir-img-cosign-no-manifest")).is_err());
    // The repository must match.
    assert!(!accepted(
        &with_key,
        &image("dir-img-cosign-valid", "testing/manifest:notlatest")
    ));
    let elsewhere =
        r#""keyPath":"cosign.pub","signedIdentity":{"type":"exactReference","dockerReference":"this/does-not:match"}"#;
    assert!(!accepted(elsewhere, &image("dir-img-cosign-valid", SINGLE)));
}

#[test]
fn match_exact_needs_the_tag_the_signature_names() {
    let exact = r#""keyPath":"cosign.pub","signedIdentity":{"type":"matchExact"}"#;
    let tagged = "192.168.64.2:5000/skopeo-signed:tag";
    assert!(accepted(exact, &image("dir-img-cosign-valid-with-tag", tagged)));
    assert!(!accepted(
        exact,
        &image(
            "dir-img-cosign-valid-with-tag",
            "192.168.64.2:5000/skopeo-signed:othertag"
        )
    ));
    // cosign signs a repository without a tag, which matchExact never accepts.
    assert!(!accepted(exact, &image("dir-img-cosign-valid", SINGLE)));
    // The default for sigstoreSigned, matchRepoDigestOrExact, needs the tag too.
    assert!(accepted(
        r#""keyPath":"cosign.pub""#,
        &image("dir-img-cosign-valid-with-tag", tagged)
    ));
}

#[test]
fn one_verified_signature_among_several_is_enough_and_none_is_not() {
    let with_key = format!(r#""keyPath":"cosign.pub",{BY_REPOSITORY}"#);
    let two = verdict(&with_key, &image("dir-img-cosign-valid-2", SINGLE));
    assert!(two.accepted);
    assert_eq!(two.requirements[0].reason, "2 of 2 signatures verified");
    let mixed = verdict(&with_key, &image("dir-img-cosign-mixed", SINGLE));
    assert!(mixed.accepted);
    assert_eq!(mixed.requirements[0].rejected.len(), 1, "{mixed:?}");
    assert!(!accepted(
        &with_key,
        &image("dir-img-cosign-valid-2", "this/does-not:match")
    ));
    let other = verdict(
        &with_key,
        &image("dir-img-cosign-other-attachment", "testing/manifest:latest"),
    );
    assert!(!other.accepted);
    assert_eq!(other.requirements[0].reason, "the image has no sigstore signature");
}

#[test]
fn scopes_reject_accept_and_fail_closed_on_what_is_not_checked() {
    let valid = image("dir-img-cosign-valid", SINGLE);
    let p = TrustPolicy::parse(
        br#"{"default":[{"type":"reject"}],"transports":{"docker":{
            "192.168.64.2:5000":[{"type":"sigstoreSigned","keyPath":"cosign.pub","signedIdentity":{"type":"matchRepository"}}],
            "192.168.64.2:5000/cosign-signed":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k.gpg"}],
            "docker.io/library":[{"type":"insecureAcceptAnything"}]}}}"#,
        "policy.json",
    )
    .unwrap();
    let v = judge(&p, &context(data(), NOW), &valid);
    assert!(v.accepted);
    assert_eq!(v.scope, r#"transports.docker."192.168.64.2:5000""#);
    let gpg = judge(
        &p,
        &context(data(), NOW),
        &image("dir-img-cosign-key-rekor-valid", KEY_REKOR),
    );
    assert!(!gpg.accepted);
    assert!(gpg.requirements[0].reason.contains("not checked by sealkit"), "{gpg:?}");
    let mut unsigned = image("dir-img-cosign-valid", "busybox:1");
    unsigned.signatures.clear();
    assert!(judge(&p, &context(data(), NOW), &unsigned).accepted);
    unsigned.reference = policy::parse_named("quay.io/x/y:1").unwrap().to_string();
    let v = judge(&p, &context(data(), NOW), &unsigned);
    assert_eq!((v.accepted, v.scope.as_str()), (false, "default"));
}

const FULCIO_REKOR: &str = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";
const FULCIO: &str = r#""signedIdentity":{"type":"matchRepository"},"fulcio":{"caPath":"fulcio_v1.crt.pem","oidcIssuer":"https://github.com/login/oauth","subjectEmail":"mitr@redhat.com"}"#;

fn with_annotation(mut image: SignedImage, key: &str, value: Option<&str>) -> SignedImage {
    if let Ok(sig) = &mut image.signatures[0] {
        match value {
            Some(value) => sig.annotations.insert(key.into(), value.into()),
            None => sig.annotations.remove(key),
        };
    }
    image
}

#[test]
fn a_keyless_signature_is_accepted_by_its_fulcio_ca_identity_and_rekor_entry() {
    let keyless = || image("dir-img-cosign-fulcio-rekor-valid", FULCIO_REKOR);
    for rekor in [
        r#"["rekor.pub"]"#,
        r#"["rekor.pub","cosign.pub"]"#,
        r#"["cosign.pub","rekor.pub"]"#,
    ] {
        let v = verdict(&format!(r#"{FULCIO},"rekorPublicKeyPaths":{rekor}"#), &keyless());
        assert!(v.accepted, "{rekor}: {v:?}");
        let signed = &v.requirements[0].signatures[0];
        assert_eq!(signed.log_entry, "checked");
        let signer = signed.certificate.as_ref().unwrap();
        assert_eq!(signer.emails, ["mitr@redhat.com"]);
        assert_eq!(signer.oidc_issuer.as_deref(), Some("https://github.com/login/oauth"));
        // Rekor's time, not the policy's `now`, is when the ten-minute certificate was valid.
        assert_eq!(signed.logged_at, Some(1_674_247_893));
    }
    let with_rekor = format!(r#"{FULCIO},"rekorPublicKeyPath":"rekor.pub""#);
    let refused = |image: SignedImage, fields: &str, why: &str| {
        let v = verdict(fields, &image);
        assert!(!v.accepted, "{why}");
        assert!(v.requirements[0].rejected[0].contains(why), "{why}: {v:?}");
    };
    // Policy validation already refuses Fulcio without Rekor; without the entry it is refused.
    refused(
        with_annotation(keyless(), cosign::BUNDLE_ANNOTATION, None),
        &with_rekor,
        "no Rekor entry",
    );
    refused(
        with_annotation(keyless(), cosign::CERTIFICATE_ANNOTATION, None),
        &with_rekor,
        "not keyless",
    );
    // Without the chain there is no path from the leaf to the root…
    refused(
        with_annotation(keyless(), cosign::CHAIN_ANNOTATION, None),
        &with_rekor,
        "not trusted",
    );
    // …unless the policy trusts the intermediate itself.
    let chain = keyless().signatures[0].as_ref().unwrap().annotations[cosign::CHAIN_ANNOTATION].clone();
    let b64 = base64::engine::general_purpose::STANDARD.encode(chain);
    let by_intermediate = format!(
        r#"{BY_REPOSITORY},"fulcio":{{"caData":"{b64}","oidcIssuer":"https://github.com/login/oauth","subjectEmail":"mitr@redhat.com"}},"rekorPublicKeyPath":"rekor.pub""#
    );
    assert!(accepted(
        &by_intermediate,
        &with_annotation(keyless(), cosign::CHAIN_ANNOTATION, None)
    ));
    refused(
        with_annotation(
            keyless(),
            cosign::CERTIFICATE_ANNOTATION,
            Some("this is not a valid certificate"),
        ),
        &with_rekor,
        "no PEM certificate",
    );
    refused(
        keyless(),
        &with_rekor.replace("mitr@redhat.com", "this-does-not-match@example.com"),
        "not this-does-not-match@example.com",
    );
    refused(
        keyless(),
        &with_rekor.replace("https://github.com/login/oauth", "https://accounts.google.com"),
        "OIDC issuer is https://github.com/login/oauth",
    );
    refused(
        with_annotation(keyless(), cosign::BUNDLE_ANNOTATION, Some("this is not a valid SET")),
        &with_rekor,
        "Rekor entry is malformed",
    );
    refused(
        keyless(),
        &with_rekor.replace("rekor.pub", "cosign.pub"),
        "not signed by a trusted Rekor key",
    );
    // The Fulcio root signs only Fulcio's certificates: the PKI root does not vouch for them.
    refused(
        keyless(),
        &with_rekor.replace("fulcio_v1.crt.pem", "pki_root_crts.pem"),
        "not trusted",
    );
    // Signed by the key of another certificate: the payload no longer verifies.
    let pki_leaf = image("dir-img-cosign-pki-valid", PKI_REFERENCE).signatures[0]
        .as_ref()
        .unwrap()
        .annotations[cosign::CERTIFICATE_ANNOTATION]
        .clone();
    refused(
        with_annotation(keyless(), cosign::CERTIFICATE_ANNOTATION, Some(&pki_leaf)),
        &with_rekor,
        "another key or certificate",
    );
    // A key-only policy ignores the certificate, as containers/image does: no key signed it.
    refused(keyless(), r#""keyPath":"cosign.pub""#, "not signed by any trusted key");
}

const PKI_REFERENCE: &str = "localhost:5000/test";
const PKI: &str = r#""signedIdentity":{"type":"matchRepository"},"pki":{"caRootsPath":"pki_root_crts.pem","caIntermediatesPath":"pki_intermediate_crts.pem","subjectEmail":"qiwan@redhat.com","subjectHostname":"myhost.example.com"}"#;

#[test]
fn a_pki_signature_is_accepted_by_its_roots_and_names_while_valid() {
    let signed = || image("dir-img-cosign-pki-valid", PKI_REFERENCE);
    let v = verdict(PKI, &signed());
    assert!(v.accepted, "{v:?}");
    let signer = v.requirements[0].signatures[0].certificate.as_ref().unwrap();
    assert!(signer.subject.contains("CN=Team A Cosign Certificate"), "{signer:?}");
    assert_eq!(v.requirements[0].signatures[0].log_entry, "none");
    // The intermediate is in the policy: the signature's own chain is not needed.
    assert!(accepted(
        PKI,
        &with_annotation(signed(), cosign::CHAIN_ANNOTATION, None)
    ));
    let roots_only = r#""signedIdentity":{"type":"matchRepository"},"pki":{"caRootsPath":"pki_root_crts.pem","subjectEmail":"qiwan@redhat.com","subjectHostname":"myhost.example.com"}"#;
    assert!(accepted(roots_only, &signed()));
    assert!(!accepted(
        roots_only,
        &with_annotation(signed(), cosign::CHAIN_ANNOTATION, None)
    ));
    assert!(!accepted(
        PKI,
        &with_annotation(signed(), cosign::CERTIFICATE_ANNOTATION, None)
    ));
    assert!(!accepted(
        &PKI.replace("qiwan@redhat.com", "other@redhat.com"),
        &signed()
    ));
    assert!(!accepted(
        &PKI.replace("myhost.example.com", "other.example.com"),
        &signed()
    ));
    // Before the certificates were issued (2024-10-01), nothing vouches for the key.
    let early = judge(&sigstore(PKI), &context(data(), 1_700_000_000), &signed());
    assert!(!early.accepted);
    assert!(
        early.requirements[0].rejected[0].contains("valid only from"),
        "{early:?}"
    );
    // A CA file that is not one is the requirement's reason, never an acceptance.
    let v = verdict(&PKI.replace("pki_root_crts.pem", "cosign.pub"), &signed());
    assert!(!v.accepted);
    assert!(v.requirements[0].reason.contains("not a CERTIFICATE"), "{v:?}");
}

/// Each fixture's signatures kept in the store (as a pull or a skopeo layout's import keeps
/// them: cosign's manifest form) and read back get the verdict they get read from the layout.
#[test]
fn signatures_kept_in_the_store_are_judged_as_read_from_the_layout() {
    let policies = [
        format!(r#""keyPath":"cosign.pub",{BY_REPOSITORY}"#),
        format!(r#""keyPath":"cosign2.pub",{BY_REPOSITORY}"#),
        format!(r#""keyPath":"cosign2.pub","rekorPublicKeyPath":"rekor.pub",{BY_REPOSITORY}"#),
        r#""keyPath":"cosign.pub""#.to_owned(),
    ];
    for (fixture, reference) in [
        ("dir-img-cosign-valid", SINGLE),
        ("dir-img-cosign-valid-2", SINGLE),
        ("dir-img-cosign-mixed", SINGLE),
        ("dir-img-cosign-key-rekor-valid", KEY_REKOR),
        ("dir-img-cosign-modified-manifest", SINGLE),
        ("dir-img-cosign-other-attachment", "testing/manifest:latest"),
    ] {
        // A store each: several fixtures sign the same manifest.
        let dir = tempfile::tempdir().unwrap();
        let store = crate::image::Store::open(dir.path()).unwrap();
        let direct = image(fixture, reference);
        let signed: crate::image::Digest = direct.manifest_digest.parse().unwrap();
        let readable: Vec<_> = direct.signatures.iter().filter_map(|s| s.clone().ok()).collect();
        crate::image::signatures::record(
            &store,
            &signed,
            crate::image::signatures::Kind::Signatures,
            &readable,
            fixture,
        )
        .unwrap();
        let kept = SignedImage {
            transport: Transport::Docker,
            reference: direct.reference.clone(),
            manifest_digest: direct.manifest_digest.clone(),
            signatures: crate::image::signatures::stored(&store, &signed, crate::image::signatures::Kind::Signatures)
                .unwrap(),
            attestations: Vec::new(),
            bundles: Vec::new(),
        };
        for fields in &policies {
            let (from_layout, from_store) = (verdict(fields, &direct), verdict(fields, &kept));
            assert_eq!(from_layout.accepted, from_store.accepted, "{fixture} under {fields}");
            assert_eq!(
                from_layout.requirements[0].signatures, from_store.requirements[0].signatures,
                "{fixture} under {fields}"
            );
        }
    }
}

#[test]
fn path_transports_match_the_path_its_parents_then_the_transport() {
    let p = TrustPolicy::parse(
        br#"{"default":[{"type":"insecureAcceptAnything"}],"transports":{
            "oci":{"/srv/images/app:1":[{"type":"reject"}],"/srv":[{"type":"insecureAcceptAnything"}],"":[{"type":"reject"}]},
            "dir":{"/air/gap":[{"type":"reject"}]}}}"#,
        "policy.json",
    )
    .unwrap();
    assert_eq!(
        p.requirements("oci", "/srv/images/app:1").1,
        r#"transports.oci."/srv/images/app:1""#
    );
    assert_eq!(p.requirements("oci", "/srv/images/app:2").1, r#"transports.oci."/srv""#);
    assert_eq!(p.requirements("oci", "/srv/images/app").1, r#"transports.oci."/srv""#);
    assert_eq!(p.requirements("oci", "/elsewhere/x").1, r#"transports.oci."""#);
    assert_eq!(
        p.requirements("dir", "/air/gap/image").1,
        r#"transports.dir."/air/gap""#
    );
    assert_eq!(p.requirements("dir", "/air").1, "default");
    assert!(
        TrustPolicy::parse(
            br#"{"default":[{"type":"reject"}],"transports":{"oci":{"relative/x":[{"type":"reject"}]}}}"#,
            "p"
        )
        .is_err()
    );
}

#[test]
fn required_attestations_are_read_strictly_and_matched_by_scope() {
    let p = TrustPolicy::parse(
        br#"{"default":[{"type":"insecureAcceptAnything"}],"sealkit":{"requiredAttestations":{"docker":{
            "example.com/team":[{"predicateType":"https://slsa.dev/provenance/v1","keyPath":"b.pub","builderId":"https://b"}]}}}}"#,
        "policy.json",
    )
    .unwrap();
    let (required, scope) = p.required_attestations("docker", "example.com/team/app:1").unwrap();
    assert_eq!(required[0].builder_id.as_deref(), Some("https://b"));
    assert_eq!(scope, r#"sealkit.requiredAttestations.docker."example.com/team""#);
    assert!(p.required_attestations("docker", "example.com/other/app:1").is_none());
    for (bad, at) in [
        (r#"{"predicateType":"https://x"}"#, "exactly one of keyPath"),
        (
            r#"{"predicateType":"https://x","keyPath":"k","builderID":"b"}"#,
            "builderID",
        ),
        (r#"{"predicateType":"","keyPath":"k"}"#, "predicateType is empty"),
        (
            r#"{"predicateType":"https://x","keyPath":"k","fulcio":{"caPath":"ca.pem","oidcIssuer":"https://i","subjectEmail":"a@b"}}"#,
            "exactly one of keyPath, keyPaths, keyData and fulcio",
        ),
        (
            r#"{"predicateType":"https://x","fulcio":{"caPath":"ca.pem","oidcIssuer":"https://i","subjectEmail":"a@b"}}"#,
            "fulcio needs a Rekor public key",
        ),
    ] {
        let text = format!(
            r#"{{"default":[{{"type":"reject"}}],"sealkit":{{"requiredAttestations":{{"docker":{{"example.com":[{bad}]}}}}}}}}"#
        );
        let e = TrustPolicy::parse(text.as_bytes(), "policy.json").unwrap_err();
        assert!(e.to_string().contains(at), "{bad}: {e}");
        assert!(e.to_string().contains("example.com"), "{bad}: {e}");
    }
}

/// A cosign v3 signature of `image`: a bundle of an in-toto statement naming `name` and
/// `digest` (hex), signed by `key`.
fn bundle_of(key: &crate::keys::SigningKey, name: &str, digest: &str, predicate_type: &str) -> cosign::Signature {
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": predicate_type,
        "predicate": {},
    });
    let envelope = crate::dsse::Envelope::sign(
        "application/vnd.in-toto+json",
        serde_json::to_vec(&statement).unwrap(),
        key,
    );
    cosign::Signature {
        mime_type: crate::image::signatures::BUNDLE.into(),
        payload: crate::bundle::Bundle::new(envelope, key.public_key().key_id()).to_json(),
        annotations: Default::default(),
    }
}

#[test]
fn a_cosign_v3_bundle_signs_the_image_it_names_by_digest_and_repository() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("team.pub"), key.public_key().to_pem()).unwrap();
    let mut signed = image("dir-img-cosign-valid", &format!("{SINGLE}:latest"));
    signed.signatures.clear();
    let hex = signed.manifest_digest.trim_start_matches("sha256:").to_owned();
    let judged =
        |image: &SignedImage, fields: &str| judge(&sigstore(fields), &context(dir.path().to_path_buf(), NOW), image);
    let by_key = format!(r#""keyPath":"team.pub",{BY_REPOSITORY}"#);

    signed.bundles = vec![Ok(bundle_of(&key, SINGLE, &hex, sign::COSIGN_SIGN))];
    let v = judged(&signed, &by_key);
    assert!(v.accepted, "{v:?}");
    assert_eq!(v.requirements[0].signatures[0].key_id, key.public_key().key_id());
    assert_eq!(v.requirements[0].signatures[0].signed_reference, SINGLE);
    // A bundle names no tag: the default identity wants the tag signed.
    assert!(!judged(&signed, r#""keyPath":"team.pub""#).accepted);
    // A Rekor requirement is not met by a bundle whose log entries are not checked.
    let with_rekor = format!(
        r#"{by_key},"rekorPublicKeyPath":"{}""#,
        data().join("rekor.pub").display()
    );
    assert!(!judged(&signed, &with_rekor).accepted);

    let refused = |bundle: cosign::Signature, why: &str| {
        let mut image = image("dir-img-cosign-valid", SINGLE);
        image.signatures.clear();
        image.bundles = vec![Ok(bundle)];
        let v = judged(&image, &by_key);
        assert!(!v.accepted, "{why}");
        assert!(v.requirements[0].rejected[0].contains(why), "{why}: {v:?}");
    };
    let stranger = crate::keys::SigningKey::generate(crate::keys::Algorithm::Ed25519).unwrap();
    refused(
        bundle_of(&stranger, SINGLE, &hex, sign::COSIGN_SIGN),
        "not signed by any trusted key",
    );
    refused(
        bundle_of(&key, SINGLE, &"0".repeat(64), sign::COSIGN_SIGN),
        "subject is not the artifact",
    );
    refused(
        bundle_of(&key, "quay.io/other/repo", &hex, sign::COSIGN_SIGN),
        "signedIdentity does not accept",
    );
    refused(
        bundle_of(&key, SINGLE, &hex, "https://slsa.dev/provenance/v1"),
        "not an image signature",
    );
    let mut tampered = bundle_of(&key, SINGLE, &hex, sign::COSIGN_SIGN);
    tampered.payload = String::from_utf8(tampered.payload)
        .unwrap()
        .replace("\"payloadType\"", "\"payloadTyp\"")
        .into_bytes();
    refused(tampered, "holds none");
}

/// `bundle` with a transparency-log entry (a `dsse` 0.0.1 body recording `payload_hash` and its
/// signature and `verifier`, a key's or certificate's PEM) promised by `rekor` and proved
/// included in a one-entry tree by a checkpoint `rekor` signed, as Rekor v1 writes one into a
/// v0.3 bundle.
fn logged(
    bundle: cosign::Signature,
    verifier: &str,
    rekor: &crate::keys::SigningKey,
    payload_hash: Option<&str>,
) -> cosign::Signature {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut value: serde_json::Value = serde_json::from_slice(&bundle.payload).unwrap();
    let envelope = &value["dsseEnvelope"];
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let hash = payload_hash.map_or_else(|| hex::encode(Sha256::digest(&payload)), str::to_owned);
    let body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "payloadHash": {"algorithm": "sha256", "value": hash},
            "signatures": [{"signature": envelope["signatures"][0]["sig"], "verifier": b64(verifier.as_bytes())}],
        },
    });
    let log_id = Sha256::digest(rekor.public_key().spki_der());
    let promised = cosign::Promised {
        body: b64(&serde_json::to_vec(&body).unwrap()),
        integrated_time: 1_700_000_000,
        log_id: hex::encode(log_id),
        log_index: 7,
    };
    let set = rekor.sign(&serde_json::to_vec(&promised).unwrap());
    // A tree of this one entry: its root is the leaf's hash (RFC 9162 §2.1.1).
    let mut leaf = Sha256::new();
    leaf.update([0]);
    leaf.update(serde_json::to_vec(&body).unwrap());
    let root_hash = b64(&leaf.finalize());
    let note = format!("rekor.test - 1\n1\n{root_hash}\n");
    let signed_note = [&log_id[..4], &rekor.sign(note.as_bytes())].concat();
    value["verificationMaterial"]["tlogEntries"] = serde_json::json!([{
        "logIndex": "7",
        "logId": {"keyId": b64(&log_id)},
        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
        "integratedTime": "1700000000",
        "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
        "inclusionProof": {
            "logIndex": "0",
            "treeSize": "1",
            "rootHash": root_hash,
            "hashes": [],
            "checkpoint": {"envelope": format!("{note}\n\u{2014} rekor.test {}\n", b64(&signed_note))},
        },
        "canonicalizedBody": promised.body,
    }]);
    cosign::Signature {
        payload: serde_json::to_vec(&value).unwrap(),
        ..bundle
    }
}

#[test]
fn a_bundles_log_entry_is_checked_by_its_inclusion_promise_when_the_policy_names_rekor() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    let rekor = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    let forger = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("team.pub"), key.public_key().to_pem()).unwrap();
    std::fs::write(dir.path().join("rekor.pub"), rekor.public_key().to_pem()).unwrap();
    let mut image = image("dir-img-cosign-valid", SINGLE);
    image.signatures.clear();
    let hex = image.manifest_digest.trim_start_matches("sha256:").to_owned();
    let signed = bundle_of(&key, SINGLE, &hex, sign::COSIGN_SIGN);
    let judged = |bundle: cosign::Signature, rekor: bool| {
        let image = SignedImage {
            bundles: vec![Ok(bundle)],
            ..image_like(&image)
        };
        let fields = format!(
            r#""keyPath":"team.pub",{BY_REPOSITORY}{}"#,
            if rekor {
                r#","rekorPublicKeyPath":"rekor.pub""#
            } else {
                ""
            }
        );
        judge(&sigstore(&fields), &context(dir.path().to_path_buf(), NOW), &image)
    };
    let pem = key.public_key().to_pem();
    let v = judged(logged(signed.clone(), &pem, &rekor, None), true);
    assert!(v.accepted, "{v:?}");
    assert_eq!(v.requirements[0].signatures[0].log_entry, "checked");
    assert_eq!(v.requirements[0].signatures[0].logged_at, Some(1_700_000_000));
    let v = judged(logged(signed.clone(), &pem, &rekor, None), false);
    assert_eq!(v.requirements[0].signatures[0].log_entry, "not checked");
    let refused = |bundle: cosign::Signature, why: &str| {
        let v = judged(bundle, true);
        assert!(!v.accepted, "{why}");
        assert!(v.requirements[0].rejected[0].contains(why), "{why}: {v:?}");
    };
    refused(signed.clone(), "no transparency-log entry");
    refused(
        logged(signed.clone(), &pem, &forger, None),
        "log is not in the trusted root",
    );
    refused(
        logged(signed.clone(), &pem, &rekor, Some(&"0".repeat(64))),
        "records another payload",
    );
    refused(
        logged(signed, &forger.public_key().to_pem(), &rekor, None),
        "another signature or key",
    );
}

fn image_like(image: &SignedImage) -> SignedImage {
    SignedImage {
        transport: Transport::Docker,
        reference: image.reference.clone(),
        manifest_digest: image.manifest_digest.clone(),
        signatures: Vec::new(),
        attestations: Vec::new(),
        bundles: Vec::new(),
    }
}

/// A real keyless bundle (sigstore-conformance's `happy-path-intoto-in-dsse-v3`: a DSSE
/// statement about `a.txt`, signed by a GitHub Actions identity through the public-good
/// Fulcio and Rekor) judged as if it signed an image whose digest is `a.txt`'s: everything
/// keyless verifies, and it is refused only for not being cosign's image signature.
#[test]
fn a_keyless_bundle_is_verified_against_the_policys_fulcio_and_rekor() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore-conformance/bundle-verify");
    let bundle = std::fs::read(suite.join("happy-path-intoto-in-dsse-v3/bundle.sigstore.json")).unwrap();
    let digest = Sha256::digest(std::fs::read(suite.join("a.txt")).unwrap());
    let production = crate::sigstore::TrustedRoot::production();
    let dir = tempfile::tempdir().unwrap();
    let pem =
        |label: &str, der: &[u8]| pkcs8::der::pem::encode_string(label, pkcs8::der::pem::LineEnding::LF, der).unwrap();
    let chain: String = production.certificate_authorities[1]
        .chain
        .iter()
        .map(|c| pem("CERTIFICATE", c.der()))
        .collect();
    std::fs::write(dir.path().join("fulcio.pem"), chain).unwrap();
    std::fs::write(dir.path().join("rekor.pub"), production.tlogs[0].key.to_pem()).unwrap();
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let fields = |email: &str| {
        format!(
            r#"{BY_REPOSITORY},"fulcio":{{"caPath":"fulcio.pem","oidcIssuer":"https://token.actions.githubusercontent.com","subjectEmail":"{email}"}},"rekorPublicKeyPath":"rekor.pub""#
        )
    };
    let image = SignedImage {
        transport: Transport::Docker,
        reference: SINGLE.into(),
        manifest_digest: format!("sha256:{}", hex::encode(digest)),
        signatures: Vec::new(),
        attestations: Vec::new(),
        bundles: vec![Ok(cosign::Signature {
            mime_type: crate::image::signatures::BUNDLE.into(),
            payload: bundle,
            annotations: Default::default(),
        })],
    };
    let judged = |email: &str| {
        judge(
            &sigstore(&fields(email)),
            &context(dir.path().to_path_buf(), NOW),
            &image,
        )
    };
    let v = judged(identity);
    assert!(!v.accepted);
    assert!(
        v.requirements[0].rejected[0].contains("not an image signature"),
        "{v:?}"
    );
    let v = judged("someone@example.com");
    assert!(
        v.requirements[0].rejected[0].contains("not someone@example.com"),
        "{v:?}"
    );
    // Another Rekor key (containers/image's rekor.pub is the public-good one: cosign.pub is
    // not): the entry's log is not the policy's.
    std::fs::write(
        dir.path().join("rekor.pub"),
        std::fs::read(data().join("cosign.pub")).unwrap(),
    )
    .unwrap();
    let v = judged(identity);
    assert!(v.requirements[0].rejected[0].contains("log"), "{v:?}");
}

/// `bundle` with its key hint replaced by `leaf`, as cosign writes a bundle signed with a
/// certificate.
fn with_certificate(bundle: cosign::Signature, leaf: &crate::certificates::Certificate) -> cosign::Signature {
    let mut value: serde_json::Value = serde_json::from_slice(&bundle.payload).unwrap();
    value["verificationMaterial"] = serde_json::json!({
        "certificate": {"rawBytes": base64::engine::general_purpose::STANDARD.encode(leaf.der())},
    });
    cosign::Signature {
        payload: serde_json::to_vec(&value).unwrap(),
        ..bundle
    }
}

#[test]
fn a_bundle_signed_with_a_pki_certificate_is_judged_by_its_roots_names_and_times() {
    use crate::certificates::testing::issue;
    use crate::keys::{Algorithm, SigningKey};
    let dir = tempfile::tempdir().unwrap();
    let (ca_key, leaf_key, stranger) = (
        SigningKey::generate(Algorithm::EcdsaP256).unwrap(),
        SigningKey::generate(Algorithm::EcdsaP256).unwrap(),
        SigningKey::generate(Algorithm::EcdsaP256).unwrap(),
    );
    // 2023-01-01 for a year: the policy's NOW (2030) is long after.
    let from = 1_672_531_200;
    let ca = issue("Team CA", &ca_key, None, from, &[]);
    let leaf = issue(
        "Team signer",
        &leaf_key,
        Some(("Team CA", &ca_key)),
        from,
        &["builder@example.com", "builder.example.com"],
    );
    let pem = |c: &crate::certificates::Certificate| {
        pkcs8::der::pem::encode_string("CERTIFICATE", pkcs8::der::pem::LineEnding::LF, c.der()).unwrap()
    };
    std::fs::write(dir.path().join("ca.pem"), pem(&ca)).unwrap();
    std::fs::write(
        dir.path().join("other-ca.pem"),
        pem(&issue("Other CA", &stranger, None, from, &[])),
    )
    .unwrap();
    let mut image = image("dir-img-cosign-valid", SINGLE);
    image.signatures.clear();
    let hex = image.manifest_digest.trim_start_matches("sha256:").to_owned();
    let signed = with_certificate(bundle_of(&leaf_key, SINGLE, &hex, sign::COSIGN_SIGN), &leaf);
    let fields = |pki: &str| format!(r#"{BY_REPOSITORY},"pki":{{{pki}}}"#);
    let by_names =
        r#""caRootsPath":"ca.pem","subjectEmail":"builder@example.com","subjectHostname":"builder.example.com""#;
    let judged = |bundle: &cosign::Signature, fields: &str, now: u64| {
        let image = SignedImage {
            bundles: vec![Ok(bundle.clone())],
            ..image_like(&image)
        };
        judge(&sigstore(fields), &context(dir.path().to_path_buf(), now), &image)
    };
    let in_the_year = from + 86_400;

    let v = judged(&signed, &fields(by_names), in_the_year);
    assert!(v.accepted, "{v:?}");
    let accepted = &v.requirements[0].signatures[0];
    assert_eq!(accepted.log_entry, "none");
    assert_eq!(accepted.key_id, leaf_key.public_key().key_id());
    let signer = accepted.certificate.as_ref().unwrap();
    assert!(signer.subject.contains("CN=Team signer"), "{signer:?}");
    assert_eq!(signer.emails, ["builder@example.com"]);

    let refused = |bundle: &cosign::Signature, fields: &str, now: u64, why: &str| {
        let v = judged(bundle, fields, now);
        assert!(!v.accepted, "{why}");
        assert!(v.requirements[0].rejected[0].contains(why), "{why}: {v:?}");
    };
    // Without a log, the certificate must be valid now.
    refused(&signed, &fields(by_names), NOW, "expired");
    refused(
        &signed,
        &fields(&by_names.replace("builder@example.com", "other@example.com")),
        in_the_year,
        "not other@example.com",
    );
    refused(
        &signed,
        &fields(&by_names.replace("\"builder.example.com", "\"other.example.com")),
        in_the_year,
        "not for host other.example.com",
    );
    refused(
        &signed,
        &fields(&by_names.replace("ca.pem", "other-ca.pem")),
        in_the_year,
        "signing certificate",
    );
    // The leaf names the signer, and another key signed the envelope.
    refused(
        &with_certificate(bundle_of(&stranger, SINGLE, &hex, sign::COSIGN_SIGN), &leaf),
        &fields(by_names),
        in_the_year,
        "signature does not verify",
    );
    // A key-only policy does not take a certificate's word.
    std::fs::write(dir.path().join("team.pub"), leaf_key.public_key().to_pem()).unwrap();
    refused(
        &signed,
        &format!(r#""keyPath":"team.pub",{BY_REPOSITORY}"#),
        in_the_year,
        "signed with a certificate, and a key was given",
    );
    // containers/image reads no log for a PKI signer: an entry is carried, not checked.
    let v = judged(
        &logged(signed.clone(), &pem(&leaf), &stranger, None),
        &fields(by_names),
        in_the_year,
    );
    assert!(v.accepted, "{v:?}");
    assert_eq!(v.requirements[0].signatures[0].log_entry, "not checked");
}

/// The public-good instance's current Fulcio chain and Rekor key, as a policy names them:
/// `dir/fulcio.pem` and `dir/rekor.pub`.
fn public_good_trust(dir: &Path) {
    let production = crate::sigstore::TrustedRoot::production();
    let chain: String = production.certificate_authorities[1]
        .chain
        .iter()
        .map(|c| pkcs8::der::pem::encode_string("CERTIFICATE", pkcs8::der::pem::LineEnding::LF, c.der()).unwrap())
        .collect();
    std::fs::write(dir.join("fulcio.pem"), chain).unwrap();
    std::fs::write(dir.join("rekor.pub"), production.tlogs[0].key.to_pem()).unwrap();
}

/// A policy that accepts any image and requires, under `docker`'s `scope`, one attestation
/// with `fields`.
fn requiring(scope: &str, fields: &str) -> TrustPolicy {
    TrustPolicy::parse(
        format!(
            r#"{{"default":[{{"type":"insecureAcceptAnything"}}],"sealkit":{{"requiredAttestations":{{"docker":{{"{scope}":[{{{fields}}}]}}}}}}}}"#
        )
        .as_bytes(),
        "policy.json",
    )
    .unwrap()
}

/// cosign v3 attests as it signs: a bundle referrer. A required attestation is met by one,
/// keyed or keyless, judged by the Sigstore verifier like a signature bundle.
#[test]
fn a_required_attestation_is_met_by_a_bundle_keyed_or_keyless() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("builder.pub"), key.public_key().to_pem()).unwrap();
    let mut image = image("dir-img-cosign-valid", SINGLE);
    image.signatures.clear();
    let hex = image.manifest_digest.trim_start_matches("sha256:").to_owned();
    let provenance = "https://slsa.dev/provenance/v1";
    let judged = |image: &SignedImage, fields: &str| {
        let v = judge(
            &requiring("192.168.64.2:5000", fields),
            &context(dir.path().to_path_buf(), NOW),
            image,
        );
        assert_eq!(v.requirements.last().unwrap().requirement, "attestation");
        v
    };
    let by_key = format!(r#""predicateType":"{provenance}","keyPath":"builder.pub""#);
    let attested = SignedImage {
        bundles: vec![
            Ok(bundle_of(&key, SINGLE, &hex, sign::COSIGN_SIGN)),
            Ok(bundle_of(&key, SINGLE, &hex, provenance)),
        ],
        ..image_like(&image)
    };
    let v = judged(&attested, &by_key);
    assert!(v.accepted, "{v:?}");
    let met = v.requirements.last().unwrap();
    assert!(met.reason.contains("bundle 2 signed by key"), "{met:?}");
    assert!(
        met.rejected[0].contains("bundle 1: of predicate type https://sigstore.dev/cosign/sign/v1"),
        "{met:?}"
    );
    // Another image's attestation, another signer, another predicate: not met.
    let stranger = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    for (bundle, why) in [
        (
            bundle_of(&key, SINGLE, &"0".repeat(64), provenance),
            "subject is not the artifact",
        ),
        (
            bundle_of(&stranger, SINGLE, &hex, provenance),
            "not signed by any trusted key",
        ),
        (
            bundle_of(&key, SINGLE, &hex, "https://spdx.dev/Document"),
            "of predicate type https://spdx.dev/Document",
        ),
    ] {
        let v = judged(
            &SignedImage {
                bundles: vec![Ok(bundle)],
                ..image_like(&image)
            },
            &by_key,
        );
        assert!(!v.accepted, "{why}");
        let unmet = v.requirements.last().unwrap();
        assert!(unmet.rejected[0].contains(why), "{why}: {unmet:?}");
        assert!(
            unmet.reason.contains("none of its 1 attestations and bundles"),
            "{unmet:?}"
        );
    }

    // Keyless: sigstore-conformance's real bundle (SLSA provenance of a.txt, signed through
    // the public-good Fulcio and Rekor by a GitHub Actions workflow), judged as an attestation
    // of an image whose digest is a.txt's.
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore-conformance/bundle-verify");
    let digest = Sha256::digest(std::fs::read(suite.join("a.txt")).unwrap());
    public_good_trust(dir.path());
    let workflow = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let keyless = |email: &str, builder: &str| {
        format!(
            r#""predicateType":"{provenance}","fulcio":{{"caPath":"fulcio.pem","oidcIssuer":"https://token.actions.githubusercontent.com","subjectEmail":"{email}"}},"rekorPublicKeyPath":"rekor.pub","builderId":"{builder}","sourceRepository":"github.com/loosebazooka/aa-test""#
        )
    };
    let builder = "https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main";
    let conformance = SignedImage {
        manifest_digest: format!("sha256:{}", hex::encode(digest)),
        bundles: vec![Ok(cosign::Signature {
            mime_type: crate::image::signatures::BUNDLE.into(),
            payload: std::fs::read(suite.join("happy-path-intoto-in-dsse-v3/bundle.sigstore.json")).unwrap(),
            annotations: Default::default(),
        })],
        ..image_like(&image)
    };
    let v = judged(&conformance, &keyless(workflow, builder));
    assert!(v.accepted, "{v:?}");
    let met = v.requirements.last().unwrap();
    assert!(
        met.reason
            .contains(&format!("bundle 1 signed by certificate for {workflow}")),
        "{met:?}"
    );
    let v = judged(&conformance, &keyless("someone@example.com", builder));
    assert!(!v.accepted);
    assert!(
        v.requirements.last().unwrap().rejected[0].contains("not someone@example.com"),
        "{v:?}"
    );
    let v = judged(&conformance, &keyless(workflow, "https://example.com/another-builder"));
    assert!(!v.accepted);
    assert!(
        v.requirements.last().unwrap().rejected[0].contains("names the builder"),
        "{v:?}"
    );
    // Its log entry is the public-good Rekor's, not this one's.
    std::fs::write(dir.path().join("rekor.pub"), key.public_key().to_pem()).unwrap();
    let v = judged(&conformance, &keyless(workflow, builder));
    assert!(!v.accepted);
    assert!(v.requirements.last().unwrap().rejected[0].contains("log"), "{v:?}");
}

/// cosign's own keyless attestation (testdata/README.md), laid out as cosign up to v2 writes it
/// in the `.att` tag: the envelope as the layer's bytes (Go's field order, as cosign marshals
/// it), the certificate and the Rekor entry (its Signed Entry Timestamp) as annotations.
fn cosign_keyless_attestation() -> (cosign::Signature, String) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/trust/testdata/cosign/oci-attestation.sigstore.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let envelope = &bundle["dsseEnvelope"];
    let stored = format!(
        r#"{{"payloadType":{},"payload":{},"signatures":[{{"keyid":"","sig":{}}}]}}"#,
        envelope["payloadType"], envelope["payload"], envelope["signatures"][0]["sig"]
    );
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let body: serde_json::Value =
        serde_json::from_slice(&b64.decode(entry["canonicalizedBody"].as_str().unwrap()).unwrap()).unwrap();
    // The layer is byte for byte what cosign sent Rekor.
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex::encode(Sha256::digest(stored.as_bytes()))
    );
    let number = |v: &serde_json::Value| v.as_str().unwrap().parse::<i64>().unwrap();
    let set = serde_json::json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": number(&entry["integratedTime"]),
            "logIndex": number(&entry["logIndex"]),
            "logID": hex::encode(b64.decode(entry["logId"]["keyId"].as_str().unwrap()).unwrap()),
        },
    });
    let certificate = crate::certificates::from_der(
        &b64.decode(
            bundle["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap(),
        "test",
    )
    .unwrap();
    let annotations = [
        ("predicateType", "https://cosign.sigstore.dev/attestation/v1".to_owned()),
        (cosign::SIGNATURE_ANNOTATION, String::new()),
        (
            cosign::CERTIFICATE_ANNOTATION,
            pkcs8::der::pem::encode_string("CERTIFICATE", pkcs8::der::pem::LineEnding::LF, certificate.der()).unwrap(),
        ),
        (cosign::BUNDLE_ANNOTATION, set.to_string()),
    ];
    let statement: serde_json::Value =
        serde_json::from_slice(&b64.decode(envelope["payload"].as_str().unwrap()).unwrap()).unwrap();
    let subject = statement["subject"][0]["digest"]["sha256"].as_str().unwrap();
    let layer = cosign::Signature {
        mime_type: crate::image::signatures::DSSE_ENVELOPE.into(),
        payload: stored.into_bytes(),
        annotations: annotations.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    };
    (layer, format!("sha256:{subject}"))
}

/// cosign up to v2 attests keyless in the tag scheme: the certificate and Rekor entry ride as
/// annotations. Judged as a keyless signature is (containers/image's checks: chain at the
/// logged time, issuer, e-mail, SET), with the entry recording this very envelope.
#[test]
fn a_keyless_tag_scheme_attestation_is_judged_by_its_certificate_and_rekor_entry() {
    let dir = tempfile::tempdir().unwrap();
    public_good_trust(dir.path());
    let stranger = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("stranger.pub"), stranger.public_key().to_pem()).unwrap();
    let (layer, subject) = cosign_keyless_attestation();
    let attested = |layer: cosign::Signature, digest: &str| SignedImage {
        manifest_digest: digest.to_owned(),
        attestations: vec![Ok(layer)],
        ..image_like(&image("dir-img-cosign-valid", SINGLE))
    };
    let requirement = |issuer: &str, email: &str, rekor: &str| {
        format!(
            r#""predicateType":"https://cosign.sigstore.dev/attestation/v1","fulcio":{{"caPath":"fulcio.pem","oidcIssuer":"{issuer}","subjectEmail":"{email}"}},"rekorPublicKeyPath":"{rekor}""#
        )
    };
    let judged = |image: &SignedImage, fields: &str| {
        judge(
            &requiring("192.168.64.2:5000", fields),
            &context(dir.path().to_path_buf(), NOW),
            image,
        )
    };
    let github = "https://github.com/login/oauth";
    let good = requirement(github, "cody@soyland.com", "rekor.pub");
    let v = judged(&attested(layer.clone(), &subject), &good);
    assert!(v.accepted, "{v:?}");
    let met = v.requirements.last().unwrap();
    assert!(
        met.reason
            .contains("attestation 1 signed by certificate for cody@soyland.com"),
        "{met:?}"
    );
    assert!(v.attestations[0].verified);
    assert_eq!(
        v.attestations[0].certificate.as_ref().unwrap().oidc_issuer.as_deref(),
        Some(github)
    );

    let refused = |image: SignedImage, fields: &str, why: &str| {
        let v = judged(&image, fields);
        assert!(!v.accepted, "{why}");
        let unmet = v.requirements.last().unwrap();
        assert!(unmet.rejected[0].contains(why), "{why}: {unmet:?}");
        assert!(!v.attestations[0].verified);
    };
    refused(
        attested(layer.clone(), &subject),
        &requirement(github, "someone@example.com", "rekor.pub"),
        "not someone@example.com",
    );
    refused(
        attested(layer.clone(), &subject),
        &requirement("https://accounts.google.com", "cody@soyland.com", "rekor.pub"),
        "OIDC issuer is https://github.com/login/oauth, not https://accounts.google.com",
    );
    refused(
        attested(layer.clone(), &subject),
        &requirement(github, "cody@soyland.com", "stranger.pub"),
        "not signed by a trusted Rekor key",
    );
    refused(
        attested(layer.clone(), &format!("sha256:{}", "0".repeat(64))),
        &good,
        &format!("its subject is {subject}"),
    );
    let mut unlogged = layer.clone();
    unlogged.annotations.remove(cosign::BUNDLE_ANNOTATION);
    refused(attested(unlogged, &subject), &good, "no Rekor entry");
    // The same envelope, signature intact, written another way: not what Rekor logged.
    let mut rewritten = layer.clone();
    let envelope: serde_json::Value = serde_json::from_slice(&layer.payload).unwrap();
    rewritten.payload = serde_json::to_vec_pretty(&envelope).unwrap();
    refused(attested(rewritten, &subject), &good, "records another envelope");
    // A certificate of another signer than the envelope's.
    let mut swapped = layer;
    let other = crate::certificates::testing::issue("other", &stranger, None, 1_700_000_000, &["cody@soyland.com"]);
    swapped.annotations.insert(
        cosign::CERTIFICATE_ANNOTATION.into(),
        pkcs8::der::pem::encode_string("CERTIFICATE", pkcs8::der::pem::LineEnding::LF, other.der()).unwrap(),
    );
    refused(attested(swapped, &subject), &good, "records another signature or key");
}

/// `image`'s tag-scheme attestation of `predicate_type`, signed by `key`, optionally logged by
/// `rekor` as cosign up to v2.1 logged one: an `intoto` 0.0.1 entry recording the envelope's
/// hash (`hash`, when not the layer's own) and the signer (`logged_as`, PEM).
fn tag_scheme_attestation(
    key: &crate::keys::SigningKey,
    digest: &str,
    predicate_type: &str,
    rekor: Option<(&crate::keys::SigningKey, &str, Option<&str>)>,
) -> cosign::Signature {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": SINGLE, "digest": {"sha256": digest}}],
        "predicateType": predicate_type,
        "predicate": {},
    });
    let envelope = crate::dsse::Envelope::sign(attestations::IN_TOTO, serde_json::to_vec(&statement).unwrap(), key);
    let stored = serde_json::to_vec(&envelope).unwrap();
    let mut annotations = std::collections::BTreeMap::from([("predicateType".to_owned(), predicate_type.to_owned())]);
    if let Some((rekor, logged_as, hash)) = rekor {
        let body = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "intoto",
            "spec": {
                "content": {
                    "hash": {"algorithm": "sha256", "value": hash.map_or_else(|| hex::encode(Sha256::digest(&stored)), str::to_owned)},
                    "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&envelope.payload))},
                },
                "publicKey": b64(logged_as.as_bytes()),
            },
        });
        let promised = cosign::Promised {
            body: b64(&serde_json::to_vec(&body).unwrap()),
            integrated_time: 1_700_000_000,
            log_id: hex::encode(Sha256::digest(rekor.public_key().spki_der())),
            log_index: 7,
        };
        let set = b64(&rekor.sign(&serde_json::to_vec(&promised).unwrap()));
        annotations.insert(
            cosign::BUNDLE_ANNOTATION.into(),
            serde_json::json!({"SignedEntryTimestamp": set, "Payload": promised}).to_string(),
        );
    }
    cosign::Signature {
        mime_type: crate::image::signatures::DSSE_ENVELOPE.into(),
        payload: stored,
        annotations,
    }
}

/// A keyed tag-scheme attestation under a requirement naming Rekor keys must be logged, as a
/// keyed signature must.
#[test]
fn a_keyed_tag_scheme_attestation_is_logged_when_the_policy_names_rekor() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    let rekor = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    let forger = crate::keys::SigningKey::generate(crate::keys::Algorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("builder.pub"), key.public_key().to_pem()).unwrap();
    std::fs::write(dir.path().join("rekor.pub"), rekor.public_key().to_pem()).unwrap();
    let image = image_like(&image("dir-img-cosign-valid", SINGLE));
    let hex = image.manifest_digest.trim_start_matches("sha256:").to_owned();
    let provenance = "https://slsa.dev/provenance/v1";
    let judged = |layer: cosign::Signature, rekor: bool| {
        let fields = format!(
            r#""predicateType":"{provenance}","keyPath":"builder.pub"{}"#,
            if rekor {
                r#","rekorPublicKeyPath":"rekor.pub""#
            } else {
                ""
            }
        );
        judge(
            &requiring("192.168.64.2:5000", &fields),
            &context(dir.path().to_path_buf(), NOW),
            &SignedImage {
                attestations: vec![Ok(layer)],
                ..image_like(&image)
            },
        )
    };
    let pem = key.public_key().to_pem();
    let logged = tag_scheme_attestation(&key, &hex, provenance, Some((&rekor, &pem, None)));
    let unlogged = tag_scheme_attestation(&key, &hex, provenance, None);
    assert!(judged(logged.clone(), true).accepted);
    assert!(judged(unlogged.clone(), false).accepted);
    assert!(judged(logged, false).accepted);
    let refused = |layer: cosign::Signature, why: &str| {
        let v = judged(layer, true);
        assert!(!v.accepted, "{why}");
        assert!(v.requirements.last().unwrap().rejected[0].contains(why), "{why}: {v:?}");
    };
    refused(unlogged, "no Rekor entry, and the policy requires one");
    refused(
        tag_scheme_attestation(&key, &hex, provenance, Some((&forger, &pem, None))),
        "not signed by a trusted Rekor key",
    );
    refused(
        tag_scheme_attestation(&key, &hex, provenance, Some((&rekor, &pem, Some(&"0".repeat(64))))),
        "records another envelope",
    );
    refused(
        tag_scheme_attestation(
            &key,
            &hex,
            provenance,
            Some((&rekor, &forger.public_key().to_pem(), None)),
        ),
        "another key or certificate",
    );
    // A simple signature's entry does not log an attestation.
    let mut signature_entry = tag_scheme_attestation(&key, &hex, provenance, Some((&rekor, &pem, None)));
    let set: serde_json::Value = serde_json::from_str(&signature_entry.annotations[cosign::BUNDLE_ANNOTATION]).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = String::from_utf8(b64.decode(set["Payload"]["body"].as_str().unwrap()).unwrap())
        .unwrap()
        .replace(r#""kind":"intoto""#, r#""kind":"hashedrekord""#);
    let promised = cosign::Promised {
        body: b64.encode(body),
        integrated_time: 1_700_000_000,
        log_id: hex::encode(Sha256::digest(rekor.public_key().spki_der())),
        log_index: 7,
    };
    let set = b64.encode(rekor.sign(&serde_json::to_vec(&promised).unwrap()));
    signature_entry.annotations.insert(
        cosign::BUNDLE_ANNOTATION.into(),
        serde_json::json!({"SignedEntryTimestamp": set, "Payload": promised}).to_string(),
    );
    refused(signature_entry, "not the intoto or dsse 0.0.1 of an attestation");
}
