//! `--format uki` and `--format esp`: the demo as a Unified Kernel Image, read back by python's
//! pefile (which no one here wrote), laid out as ukify lays one out, the same bytes from two
//! builds; bad stubs and command lines refused with nothing written. tests/boot.rs boots the ESP.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// 2026-12-01, as tests/boot.rs builds the demo.
const EPOCH: &str = "1796083200";
const STUB: &str = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";

fn stub_installed() -> bool {
    if Path::new(STUB).is_file() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI installs systemd-boot-efi (scripts/test)"
    );
    false
}

/// The validators' python (scripts/test installs pefile and in-toto-attestation in it).
fn pefile_python() -> PathBuf {
    let python =
        Path::new(&std::env::var("SEALKIT_VALIDATORS").expect("scripts/test sets SEALKIT_VALIDATORS")).join("python");
    assert!(python.exists(), "scripts/test installs the validators");
    python
}

/// Each section of `efi` as pefile reads it: name, virtual address, virtual size, file offset,
/// raw size, characteristics; then the header fields the layout sets.
fn sections(efi: &Path) -> serde_json::Value {
    let script = r#"
import json, sys, pefile
pe = pefile.PE(sys.argv[1])
# What pefile finds odd in the UKI must be the stub's own oddities, nothing of the layout's.
stub_warnings = set(pefile.PE(sys.argv[2]).get_warnings())
assert set(pe.get_warnings()) <= stub_warnings, set(pe.get_warnings()) - stub_warnings
print(json.dumps({
  "sections": [[s.Name.rstrip(b"\0").decode(), s.VirtualAddress, s.Misc_VirtualSize, s.PointerToRawData,
                s.SizeOfRawData, s.Characteristics] for s in pe.sections],
  "data": {s.Name.rstrip(b"\0").decode(): s.get_data()[:s.Misc_VirtualSize].hex() for s in pe.sections
           if s.Name.rstrip(b"\0") in (b".cmdline", b".uname", b".osrel")},
  "size_of_image": pe.OPTIONAL_HEADER.SizeOfImage,
  "section_alignment": pe.OPTIONAL_HEADER.SectionAlignment,
  "checksum": pe.OPTIONAL_HEADER.CheckSum,
  "timestamp": pe.FILE_HEADER.TimeDateStamp,
  "symbols": pe.FILE_HEADER.NumberOfSymbols,
  "security": pe.OPTIONAL_HEADER.DATA_DIRECTORY[4].Size,
}))
"#;
    let out = Command::new(pefile_python())
        .args(["-c", script])
        .arg(efi)
        .arg(STUB)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_demo_as_a_uki_is_laid_out_as_ukify_lays_it_out_and_reproducible() {
    if !stub_installed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = common::locked_example(tmp.path(), "demo.yml", &common::DEMO_IMAGES) else {
        return;
    };
    let build = |out: &Path, formats: &[&str]| {
        let mut c = common::sealkit(&store);
        c.env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("build")
            .arg(&config)
            .arg("-o")
            .arg(out);
        for format in formats {
            c.args(["--format", format]);
        }
        c.assert().success();
    };
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    build(&first, &["uki", "kernel+initrd", "esp"]);
    build(&second, &["esp", "uki"]);
    for file in ["demo.efi", "demo-esp.img"] {
        assert!(
            std::fs::read(first.join(file)).unwrap() == std::fs::read(second.join(file)).unwrap(),
            "{file} differs between two builds"
        );
    }

    let read = sections(&first.join("demo.efi"));
    let added: Vec<&serde_json::Value> = read["sections"]
        .as_array()
        .unwrap()
        .iter()
        .skip_while(|s| s[0] != ".osrel")
        .collect();
    let names: Vec<&str> = added.iter().map(|s| s[0].as_str().unwrap()).collect();
    assert_eq!(names, [".osrel", ".cmdline", ".uname", ".initrd", ".linux"]);
    let file = |name: &str| std::fs::read(first.join(name)).unwrap();
    let uki = file("demo.efi");
    let (kernel, initrd) = (file("demo-kernel"), file("demo-initrd.img"));
    let alignment = read["section_alignment"].as_u64().unwrap();
    let mut previous_end = None;
    for s in &added {
        let (address, size, offset, raw) = (
            s[1].as_u64().unwrap(),
            s[2].as_u64().unwrap(),
            s[3].as_u64().unwrap(),
            s[4].as_u64().unwrap(),
        );
        // Each after the last, at the stub's alignment; its data zero-padded to the file's.
        if let Some(end) = previous_end {
            assert_eq!(address, u64::div_ceil(end, alignment) * alignment, "{s}");
        }
        previous_end = Some(address + size);
        assert_eq!(offset % 512, 0, "{s}");
        assert!(
            uki[(offset + size) as usize..(offset + raw) as usize]
                .iter()
                .all(|&b| b == 0)
        );
        let flags = if s[0] == ".linux" { 0x4000_0020 } else { 0x4000_0040 };
        assert_eq!(s[5], flags, "{s}");
    }
    let data = |name: &str| {
        let s = added.iter().find(|s| s[0] == name).unwrap();
        let (offset, size) = (s[3].as_u64().unwrap() as usize, s[2].as_u64().unwrap() as usize);
        &uki[offset..offset + size]
    };
    assert!(data(".linux") == kernel.as_slice(), ".linux is not the kernel");
    assert!(data(".initrd") == initrd.as_slice(), ".initrd is not the initrd");
    assert_eq!(data(".cmdline"), file("demo-cmdline").as_slice());
    let uname = String::from_utf8(data(".uname").to_vec()).unwrap();
    assert!(
        uname.ends_with("-amd64") && uname.chars().next().unwrap().is_ascii_digit(),
        "{uname}"
    );
    // The demo's root has no os-release: the UKI names the image.
    assert_eq!(
        data(".osrel"),
        b"NAME=sealkit\nID=sealkit\nPRETTY_NAME=\"demo\"\n".as_slice()
    );
    assert_eq!(
        read["size_of_image"].as_u64().unwrap(),
        u64::div_ceil(previous_end.unwrap(), alignment) * alignment
    );
    // No clock, no symbols to sign along, no signature yet; the checksum is the signer's.
    assert_eq!(read["timestamp"], 0);
    assert_eq!(read["symbols"], 0);
    assert_eq!(read["security"], 0);
    assert_eq!(read["checksum"], 0);
}

#[test]
fn bad_stubs_and_command_lines_are_refused_with_nothing_written() {
    if !stub_installed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = common::locked_example(tmp.path(), "demo.yml", &common::DEMO_IMAGES) else {
        return;
    };
    let refused = |stub: &Path, config: &Path, code: &str, says: &str| {
        let out = tmp.path().join(format!("out-{code}"));
        let run = common::sealkit(&store)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("build")
            .arg(config)
            .arg("-o")
            .arg(&out)
            .args(["--format", "uki", "--uki-stub"])
            .arg(stub)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(code) && stderr.contains(says), "{code}: {stderr}");
        let left: Vec<_> = std::fs::read_dir(&out)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{code}: {left:?} left behind");
    };
    let not_pe = tmp.path().join("not-pe.efi");
    std::fs::write(&not_pe, b"MZ\x90\x00 this is not a PE image").unwrap();
    refused(&not_pe, &config, "bad-uki-stub", "not a PE image");
    refused(
        &tmp.path().join("missing.efi"),
        &config,
        "missing-tool",
        "systemd-boot-efi",
    );

    // The stub with a certificate table entry: a signature of the stub would not cover the
    // sections added to it.
    let mut signed = std::fs::read(STUB).unwrap();
    signed.resize(signed.len().next_multiple_of(8), 0);
    let table = u32::try_from(signed.len()).unwrap();
    // An empty WIN_CERTIFICATE: its length, revision 2.0, PKCS#7 signed data.
    signed.extend([8, 0, 0, 0, 0, 2, 2, 0]);
    let pe = u32::from_le_bytes(signed[0x3c..0x40].try_into().unwrap()) as usize;
    let certificate_entry = pe + 24 + 112 + 4 * 8;
    signed[certificate_entry..certificate_entry + 4].copy_from_slice(&table.to_le_bytes());
    signed[certificate_entry + 4..certificate_entry + 8].copy_from_slice(&8u32.to_le_bytes());
    let signed_stub = tmp.path().join("signed.efi");
    std::fs::write(&signed_stub, &signed).unwrap();
    refused(&signed_stub, &config, "bad-uki-stub", "is signed");

    // A command line the stub would widen byte by byte into UTF-16: é arrives as two characters.
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("console=ttyS0"), "the demo's cmdline changed");
    let accented = tmp.path().join("accented.yml");
    std::fs::write(&accented, text.replace("console=ttyS0", "console=ttyS0 motd=café")).unwrap();
    refused(Path::new(STUB), &accented, "bad-cmdline", "not printable ASCII");
}

/// Secure Boot keys made by `sealkit keygen --secure-boot` in `dir`.
fn secure_boot_keys(store: &Path, dir: &Path) -> PathBuf {
    common::sealkit(store)
        .args(["keygen", "--secure-boot", "--name", "sealkit test", "-o"])
        .arg(dir)
        .assert()
        .success();
    dir.to_path_buf()
}

/// The demo in a store, and two sets of Secure Boot keys: the one that signs, and another.
struct Keyed {
    tmp: tempfile::TempDir,
    store: PathBuf,
    config: PathBuf,
    keys: PathBuf,
    other: PathBuf,
}

fn keyed_demo() -> Option<Keyed> {
    let tmp = tempfile::tempdir().unwrap();
    let (store, config) = common::locked_example(tmp.path(), "demo.yml", &common::DEMO_IMAGES)?;
    let keys = secure_boot_keys(&store, &tmp.path().join("keys"));
    let other = secure_boot_keys(&store, &tmp.path().join("other"));
    Some(Keyed {
        tmp,
        store,
        config,
        keys,
        other,
    })
}

#[test]
fn a_signed_uki_is_reproducible_and_sbverify_accepts_it_for_its_db_certificate_only() {
    if !stub_installed() {
        return;
    }
    let Some(Keyed {
        tmp,
        store,
        config,
        keys,
        other,
    }) = keyed_demo()
    else {
        return;
    };
    let build = |out: &Path, key: &Path, cert: &Path| {
        common::sealkit(&store)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("build")
            .arg(&config)
            .arg("-o")
            .arg(out)
            .args(["--format", "uki", "--sign-uki"])
            .arg(key)
            .arg("--sign-cert")
            .arg(cert)
            .output()
            .unwrap()
    };
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    for out in [&first, &second] {
        let run = build(out, &keys.join("db.key"), &keys.join("db.crt"));
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let signed = std::fs::read(first.join("demo.efi")).unwrap();
    assert!(
        signed == std::fs::read(second.join("demo.efi")).unwrap(),
        "two signings of one UKI differ"
    );

    // Debian's sbverify: the signature, the image hash, and the db certificate.
    let sbverify = |cert: &Path| {
        Command::new("sbverify")
            .arg("--cert")
            .arg(cert)
            .arg(first.join("demo.efi"))
            .output()
            .expect("scripts/test installs sbsigntool")
    };
    let ok = sbverify(&keys.join("db.crt"));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(!sbverify(&other.join("db.crt")).status.success());
    assert!(!sbverify(&keys.join("KEK.crt")).status.success());

    // sealkit's own check, and the same image with one byte of its command line's padding changed.
    let db = sealkit::certificates::from_pem(&std::fs::read(keys.join("db.crt")).unwrap(), "db.crt").unwrap();
    let verified = sealkit::authenticode::verify(&signed, &db).unwrap();
    assert!(verified.signer.contains("sealkit test Secure Boot db"), "{verified:?}");
    let other_db = sealkit::certificates::from_pem(&std::fs::read(other.join("db.crt")).unwrap(), "db.crt").unwrap();
    let e = sealkit::authenticode::verify(&signed, &other_db).unwrap_err();
    assert!(e.contains("not a trusted db certificate"), "{e}");
    let at = signed
        .windows(b"console=ttyS0 panic=-1".len())
        .position(|w| w == b"console=ttyS0 panic=-1")
        .unwrap();
    let mut flipped = signed.clone();
    flipped[at + 0x100] ^= 1;
    let e = sealkit::authenticode::verify(&flipped, &db).unwrap_err();
    assert!(e.contains("changed after signing"), "{e}");
    let unsigned = tmp.path().join("unsigned");
    common::sealkit(&store)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("build")
        .arg(&config)
        .arg("-o")
        .arg(&unsigned)
        .args(["--format", "uki"])
        .assert()
        .success();
    let e = sealkit::authenticode::verify(&std::fs::read(unsigned.join("demo.efi")).unwrap(), &db).unwrap_err();
    assert!(e.contains("not signed"), "{e}");

    // Bad keys: not RSA, or a certificate of another key; refused before anything is built.
    let (ed25519, _) = common::keypair(&store, tmp.path(), "ed25519");
    for (key, cert, says) in [
        (
            ed25519.clone(),
            keys.join("db.crt"),
            "not an unencrypted RSA private key",
        ),
        (keys.join("db.key"), keys.join("KEK.crt"), "is not the certificate of"),
        (keys.join("db.key"), keys.join("db.esl"), "db.esl"),
    ] {
        let out = tmp.path().join("refused");
        let run = build(&out, &key, &cert);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("bad-secure-boot-key") && stderr.contains(says),
            "{says}: {stderr}"
        );
        assert!(!out.exists(), "{says}: the build went ahead");
    }
}

/// The gate signs the boot image only once the policy passed: the demo's gated folder holds a
/// signed UKI that `sealkit verify --db-cert` checks as the firmware will; the insecure
/// example, denied, leaves no UKI at all.
#[test]
fn the_gate_signs_a_uki_only_when_the_policy_passes() {
    if !stub_installed() {
        return;
    }
    let Some(Keyed {
        tmp,
        store,
        config,
        keys,
        other,
    }) = keyed_demo()
    else {
        return;
    };
    let (release, public) = common::keypair(&store, tmp.path(), "release");
    let gate = |config: &Path, out: &Path| {
        common::sealkit(&store)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("gate")
            .arg(config)
            .arg("--key")
            .arg(&release)
            .arg("-o")
            .arg(out)
            .args(["--image-format", "uki", "--image-format", "esp", "--sign-uki"])
            .arg(keys.join("db.key"))
            .arg("--sign-cert")
            .arg(keys.join("db.crt"))
            .output()
            .unwrap()
    };
    let gated = tmp.path().join("gated");
    let run = gate(&config, &gated);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let verify = |db: &Path| {
        common::sealkit(&store)
            .arg("verify")
            .arg(&gated)
            .arg("--key")
            .arg(&public)
            .arg("--db-cert")
            .arg(db)
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    let ok = verify(&keys.join("db.crt"));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // Rebuilt without the signing key: the UKI built must be the gate's, signed, so the ESP
    // made with the gate's signed UKI comes out byte for byte.
    let rebuild_with_path = |folder: &Path, path: &std::ffi::OsStr| {
        common::sealkit(&store)
            .env("PATH", path)
            .arg("verify")
            .arg(folder)
            .arg("--key")
            .arg(&public)
            .arg("--expect-config")
            .arg(&config)
            .arg("--rebuild")
            .output()
            .unwrap()
    };
    let rebuild = |folder: &Path| rebuild_with_path(folder, &std::env::var_os("PATH").unwrap_or_default());
    let rebuilt = rebuild(&gated);
    let said = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(
        rebuilt.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    for file in ["demo.efi", "demo-esp.img"] {
        assert!(
            said.lines()
                .any(|l| l.starts_with("ok") && l.contains("rebuild") && l.contains(file)),
            "{file}: {said}"
        );
    }
    // A UKI changed where its Authenticode hash covers it is not taken for the one rebuilt.
    let changed = tmp.path().join("changed");
    std::fs::create_dir(&changed).unwrap();
    for entry in std::fs::read_dir(&gated).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), changed.join(entry.file_name())).unwrap();
    }
    let mut uki = std::fs::read(changed.join("demo.efi")).unwrap();
    let at = uki.len() / 2;
    uki[at] ^= 1;
    std::fs::write(changed.join("demo.efi"), uki).unwrap();
    let refused = rebuild(&changed);
    let said = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("uki-not-rebuilt"), "{said}");
    // Another mkfs.fat, which writes another label, makes another ESP: the check says which
    // tool differs from the one the provenance names.
    let wrappers = tmp.path().join("other-mkfs.fat");
    std::fs::create_dir(&wrappers).unwrap();
    let wrapper = wrappers.join("mkfs.fat");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\necho 'mkfs.fat 0.0 (a test wrapper)'\n\
         for d in /usr/sbin /sbin; do [ -x $d/mkfs.fat ] && exec $d/mkfs.fat \"$@\" -n OTHER >/dev/null; done\n\
         exit 127\n",
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(wrappers.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let other_tools = rebuild_with_path(&gated, &path);
    let said = String::from_utf8_lossy(&other_tools.stdout);
    assert_eq!(
        other_tools.status.code(),
        Some(1),
        "{said}{}",
        String::from_utf8_lossy(&other_tools.stderr)
    );
    let esp_line = said
        .lines()
        .find(|l| l.contains("rebuild") && l.contains("demo-esp.img"))
        .unwrap_or_default();
    assert!(
        esp_line.contains("mkfs.fat here says \"mkfs.fat 0.0 (a test wrapper)\", the provenance \"mkfs.fat "),
        "{said}"
    );
    assert!(!esp_line.contains("mcopy"), "{said}");
    let result: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let secure_boot: Vec<&serde_json::Value> = result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "secure-boot")
        .collect();
    assert_eq!(secure_boot.len(), 1, "{result}");
    assert_eq!(secure_boot[0]["subject"], "demo.efi");
    assert!(
        secure_boot[0]["detail"]
            .as_str()
            .unwrap()
            .contains("Authenticode sha256:")
    );
    // The attestations cover the UKI and the ESP as every other image file, and name the
    // UKI's Authenticode hash beside its sha256.
    assert!(result["artifacts"].get("demo.efi").is_some() && result["artifacts"].get("demo-esp.img").is_some());
    let authenticode = secure_boot[0]["detail"]
        .as_str()
        .unwrap()
        .split("Authenticode ")
        .nth(1)
        .unwrap();
    let authenticode = authenticode.trim_end_matches(')');
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(gated.join("provenance.sigstore.json")).unwrap()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        bundle["dsseEnvelope"]["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    // The stub is in the UKI whole: the provenance names it, by its digest, among the inputs.
    let stub = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "efi-stub")
        .expect("the provenance names the EFI stub");
    assert_eq!(stub["uri"], format!("file://{STUB}"));
    assert_eq!(
        format!("sha256:{}", stub["digest"]["sha256"].as_str().unwrap()),
        common::sha256(&std::fs::read(STUB).unwrap())
    );
    // So are the tools that wrote the ESP, beside sealkit itself: each with the version line
    // it printed.
    let versions = statement["predicate"]["runDetails"]["builder"]["version"]
        .as_object()
        .unwrap();
    let names: Vec<&str> = versions.keys().map(String::as_str).collect();
    assert_eq!(names, ["mcopy", "mkfs.fat", "mmd", "sealkit"], "{versions:?}");
    for (tool, version) in versions.iter().filter(|(tool, _)| *tool != "sealkit") {
        assert!(
            version.as_str().unwrap().starts_with(&format!("{tool} ")),
            "{tool}: {version}"
        );
    }
    let uki = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "demo.efi")
        .unwrap();
    assert_eq!(uki["annotations"]["authenticode"], authenticode, "{uki}");
    // in-toto-attestation takes the annotated subjects.
    let bundles: Vec<PathBuf> = std::fs::read_dir(&gated)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sigstore.json"))
        .collect();
    let validated = Command::new(pefile_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/intoto_validate.py"))
        .args(&bundles)
        .output()
        .unwrap();
    assert!(
        validated.status.success(),
        "{}",
        String::from_utf8_lossy(&validated.stderr)
    );
    assert_eq!(
        uki["digest"]["sha256"]
            .as_str()
            .map(|d| format!("sha256:{d}"))
            .as_deref(),
        result["artifacts"]["demo.efi"].as_str()
    );
    let refused = verify(&other.join("db.crt"));
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("secure-boot (demo.efi)"));

    let insecure_tmp = tempfile::tempdir().unwrap();
    let Some((insecure_store, insecure)) =
        common::locked_example(insecure_tmp.path(), "insecure.yml", &["kernel", "init", "insecure"])
    else {
        return;
    };
    let denied = tmp.path().join("denied");
    let run = common::sealkit(&insecure_store)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("gate")
        .arg(&insecure)
        .arg("--key")
        .arg(&release)
        .arg("-o")
        .arg(&denied)
        .args(["--image-format", "uki", "--sign-uki"])
        .arg(keys.join("db.key"))
        .arg("--sign-cert")
        .arg(keys.join("db.crt"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let left: Vec<String> = std::fs::read_dir(&denied)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left.iter().any(|f| f.ends_with(".efi") || f.ends_with(".img")),
        "{left:?}"
    );
}
