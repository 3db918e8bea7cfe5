//! ELF facts against ground truth: small C programs compiled here with and without each hardening
//! flag, a Go binary from Debian (skopeo), and hostile files that must give a `malformed` fact.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

mod common;

const PROGRAM: &str = r#"
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    char buf[64];
    strcpy(buf, argc > 1 ? argv[1] : "hello");
    printf("%s %zu\n", buf, strlen(buf));
    char *p = malloc(32);
    memcpy(p, buf, 16);
    puts(p);
    free(p);
    return 0;
}
"#;

/// Compiles PROGRAM with `flags` into `dir/name`.
fn gcc(dir: &Path, name: &str, flags: &[&str]) {
    let src = dir.join("prog.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let out = Process::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(dir.join(name))
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc {flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scan(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let out = Command::cargo_bin("sealkit")
        .unwrap()
        .args(["scan", "--format", "json"])
        .arg(format!("dir:{}", dir.display()))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    doc["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["path"].as_str().unwrap().to_owned(), b.clone()))
        .collect()
}

fn result(b: &serde_json::Value, check: &str) -> String {
    b["elf"]["hardening"][check]["result"]
        .as_str()
        .unwrap_or("missing")
        .to_owned()
}

#[test]
fn hardening_flags_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    gcc(
        d,
        "hardened",
        &[
            "-O2",
            "-D_FORTIFY_SOURCE=2",
            "-fstack-protector-strong",
            "-fPIE",
            "-pie",
            "-Wl,-z,relro,-z,now",
            "-fcf-protection",
        ],
    );
    gcc(d, "nopie", &["-O2", "-no-pie", "-fno-pie"]);
    gcc(d, "norelro", &["-O2", "-Wl,-z,norelro"]);
    gcc(d, "lazy", &["-O2", "-Wl,-z,relro,-z,lazy"]);
    gcc(d, "nocanary", &["-O2", "-fno-stack-protector"]);
    gcc(d, "canary", &["-O2", "-fstack-protector-all"]);
    gcc(d, "nofortify", &["-O0", "-U_FORTIFY_SOURCE"]);
    gcc(d, "execstack", &["-O2", "-Wl,-z,execstack"]);
    gcc(
        d,
        "rpath",
        &[
            "-O2",
            "-Wl,-rpath,$ORIGIN/../lib:relative/dir:",
            "-Wl,--disable-new-dtags",
        ],
    );
    gcc(d, "runpath", &["-O2", "-Wl,-rpath,/opt/lib", "-Wl,--enable-new-dtags"]);
    gcc(d, "static", &["-O2", "-static"]);
    gcc(d, "staticpie", &["-O2", "-static-pie"]);
    let shared_src = d.join("lib.c");
    std::fs::write(&shared_src, "int f(int x) { return x + 1; }\n").unwrap();
    assert!(
        Process::new("gcc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(d.join("libf.so"))
            .arg(&shared_src)
            .status()
            .unwrap()
            .success()
    );

    let s = scan(d);
    let h = &s["hardened"];
    for check in [
        "pie",
        "relro_check",
        "bind_now",
        "nx",
        "canary",
        "fortify",
        "text_relocations",
        "writable_executable_segments",
    ] {
        assert_eq!(
            result(h, check),
            "pass",
            "hardened: {check}: {}",
            h["elf"]["hardening"][check]
        );
    }
    assert_eq!(h["elf"]["hardening"]["relro"], "full");
    assert_eq!(h["elf"]["kind"], "pie");
    assert!(
        h["elf"]["hardening"]["fortified"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "strcpy" || f == "memcpy" || f == "printf")
    );
    assert_eq!(result(h, "stack_clash"), "unknown", "never claimed without proof");
    // The linker keeps IBT only if every input has it (Debian 12's crt files do not): agree with readelf.
    let notes = Process::new("readelf")
        .arg("-n")
        .arg(d.join("hardened"))
        .output()
        .unwrap();
    let ibt = String::from_utf8_lossy(&notes.stdout).contains("IBT");
    assert_eq!(result(h, "cet_ibt"), if ibt { "pass" } else { "fail" });

    assert_eq!(
        (result(&s["nopie"], "pie"), s["nopie"]["elf"]["kind"].as_str()),
        ("fail".into(), Some("exec"))
    );
    assert_eq!(
        (
            result(&s["norelro"], "relro_check"),
            s["norelro"]["elf"]["hardening"]["relro"].as_str()
        ),
        ("fail".into(), Some("none"))
    );
    assert_eq!(
        (
            result(&s["lazy"], "bind_now"),
            s["lazy"]["elf"]["hardening"]["relro"].as_str()
        ),
        ("fail".into(), Some("partial"))
    );
    assert_eq!(result(&s["nocanary"], "canary"), "fail");
    assert_eq!(result(&s["canary"], "canary"), "pass");
    assert_eq!(result(&s["nofortify"], "fortify"), "fail");
    assert_eq!(result(&s["execstack"], "nx"), "fail");

    let rpath = &s["rpath"]["elf"]["rpath"];
    assert_eq!(rpath[0]["path"], "$ORIGIN/../lib");
    assert_eq!(rpath[0]["origin"], true);
    assert_eq!(rpath[1]["relative"], true);
    assert_eq!(rpath[2]["empty"], true);
    assert_eq!(s["runpath"]["elf"]["runpath"][0]["path"], "/opt/lib");
    assert!(s["runpath"]["elf"]["rpath"].as_array().unwrap().is_empty());

    assert_eq!(s["static"]["elf"]["kind"], "static");
    assert_eq!(result(&s["static"], "pie"), "fail");
    assert_eq!(s["staticpie"]["elf"]["kind"], "static-pie");
    assert_eq!(result(&s["staticpie"], "pie"), "pass");
    assert_eq!(s["libf.so"]["elf"]["kind"], "shared-object");
    assert_eq!(result(&s["libf.so"], "pie"), "na");
    assert_eq!(s["hardened"]["elf"]["needed"], serde_json::json!(["libc.so.6"]));
    assert_eq!(s["hardened"]["elf"]["interpreter"], "/lib64/ld-linux-x86-64.so.2");
    assert!(s["hardened"]["elf"]["build_id"].as_str().is_some_and(|b| b.len() == 40));
}

#[test]
fn go_binaries_report_their_build_info() {
    let Some(go) = ["/usr/bin/skopeo", "/usr/bin/docker-registry"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "skopeo is required in CI (scripts/test installs it)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(go, tmp.path().join("gobin")).unwrap();
    let s = scan(tmp.path());
    let elf = &s["gobin"]["elf"];
    assert_eq!(elf["language"], "go");
    let info = &elf["go"];
    assert!(info["go_version"].as_str().unwrap().starts_with("go1."), "{info}");
    // Debian builds Go packages in GOPATH mode: a main path and settings, no module list.
    assert!(info["path"].as_str().unwrap().contains('/'), "{info}");
    assert!(info["deps"].is_array());
    assert!(
        info["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|kv| kv[0] == "CGO_ENABLED"),
        "{info}"
    );
    assert_eq!(result(&s["gobin"], "canary"), "na");
    assert_eq!(result(&s["gobin"], "fortify"), "na");
}

/// Hostile and odd files: each is reported (malformed, or facts for valid odd ELF), never a panic.
#[test]
fn hostile_elf_files_are_malformed_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    gcc(d, "good", &["-O2"]);
    let good = std::fs::read(d.join("good")).unwrap();
    std::fs::remove_file(d.join("good")).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(d.join(name), bytes).unwrap();
    write("magic-only", b"\x7fELF");
    write("truncated-header", &good[..40]);
    write("truncated-tables", &good[..good.len() / 3]);
    let mut absurd = good.clone();
    absurd[0x3c..0x3e].copy_from_slice(&0xffffu16.to_le_bytes()); // e_shnum
    write("absurd-shnum", &absurd);
    let mut far = good.clone();
    far[0x28..0x30].copy_from_slice(&(u64::MAX - 10).to_le_bytes()); // e_shoff
    write("shoff-past-end", &far);
    let mut big_endian = good.clone();
    big_endian[5] = 2; // EI_DATA = big endian: every field now reads wrongly
    write("big-endian", &big_endian);
    // A minimal valid 32-bit big-endian MIPS header with no tables.
    let mut mips = vec![0x7f, b'E', b'L', b'F', 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    mips.extend_from_slice(&[
        0, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x34, 0, 0x20, 0, 0, 0, 0x28, 0, 0,
        0, 0,
    ]);
    write("mips32be", &mips);
    // Flipped bytes all over a real binary.
    for seed in 0..16u64 {
        let mut b = good.clone();
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        for _ in 0..64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Past the magic, so each stays an ELF file.
            let i = 4 + (x >> 33) as usize % (b.len() - 4);
            b[i] = (x >> 17) as u8;
        }
        write(&format!("flipped-{seed}"), &b);
    }
    write("empty.so", b"");

    let s = scan(d);
    for name in ["magic-only", "truncated-header", "absurd-shnum", "shoff-past-end"] {
        assert_eq!(s[name]["elf"]["status"], "malformed", "{name}: {}", s[name]["elf"]);
        assert!(!s[name]["elf"]["reason"].as_str().unwrap().is_empty());
    }
    assert!(!s.contains_key("empty.so"), "a zero-length file is not an ELF file");
    assert_eq!(s["mips32be"]["elf"]["machine"], "mips", "{}", s["mips32be"]["elf"]);
    assert_eq!(s["mips32be"]["elf"]["class"], 32);
    assert_eq!(s["mips32be"]["elf"]["endian"], "big");
    assert_eq!(s.len(), 7 + 16, "every file with the ELF magic is reported");
}

/// /usr/bin/node asks for immediate binding with DT_FLAGS_1 NOW alone, which checksec.rs misses:
/// a binary patched to carry only that flag must still pass, as hardening-check says.
#[test]
fn bind_now_from_flags_1_alone() {
    let tmp = tempfile::tempdir().unwrap();
    gcc(tmp.path(), "now", &["-O2", "-Wl,-z,relro,-z,now"]);
    let path = tmp.path().join("now");
    let mut bytes = std::fs::read(&path).unwrap();
    let dynamic = {
        let elf = goblin::elf::Elf::parse(&bytes).unwrap();
        let s = elf
            .section_headers
            .iter()
            .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".dynamic"))
            .unwrap();
        (s.sh_offset as usize, s.sh_size as usize)
    };
    let mut patched = 0;
    for entry in bytes[dynamic.0..dynamic.0 + dynamic.1].chunks_exact_mut(16) {
        let tag = u64::from_le_bytes(entry[..8].try_into().unwrap());
        match tag {
            // DT_FLAGS: drop BIND_NOW; DT_BIND_NOW: turn into the harmless DT_DEBUG.
            30 => {
                let value = u64::from_le_bytes(entry[8..].try_into().unwrap()) & !8;
                entry[8..].copy_from_slice(&value.to_le_bytes());
                patched += 1;
            }
            24 => {
                entry[..8].copy_from_slice(&21u64.to_le_bytes());
                patched += 1;
            }
            _ => {}
        }
    }
    assert!(patched > 0, "the linker wrote neither DT_FLAGS nor DT_BIND_NOW");
    std::fs::write(&path, &bytes).unwrap();
    let s = scan(tmp.path());
    assert_eq!(result(&s["now"], "bind_now"), "pass");
    assert_eq!(s["now"]["elf"]["hardening"]["bind_now"]["evidence"], "DT_FLAGS_1 NOW");
    assert_eq!(s["now"]["elf"]["hardening"]["relro"], "full");
    if let Ok(out) = Process::new("hardening-check").arg(&path).output() {
        assert!(String::from_utf8_lossy(&out.stdout).contains("Immediate binding: yes"));
    }
}

/// A Rust binary built with cargo-auditable lists its crates in `.dep-v0`.
#[test]
fn cargo_auditable_dependencies() {
    let have = Process::new("cargo")
        .args(["auditable", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo-auditable is required in CI (scripts/test installs it)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/auditable-hello");
    let out = Process::new("cargo")
        .args(["auditable", "build", "--release", "--quiet", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(tmp.path().join("target"))
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo auditable build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(
        tmp.path().join("target/release/auditable-hello"),
        bin.join("auditable-hello"),
    )
    .unwrap();
    let s = scan(&bin);
    let elf = &s["auditable-hello"]["elf"];
    assert_eq!(elf["language"], "rust");
    let packages = elf["rust"]["packages"].as_array().unwrap();
    assert!(
        packages
            .iter()
            .any(|p| p["name"] == "itoa" && p["version"] == "1.0.11" && p["source"] == "crates.io"),
        "{packages:?}"
    );
    assert!(
        packages
            .iter()
            .any(|p| p["name"] == "auditable-hello" && p["root"] == true)
    );
    assert_eq!(result(&s["auditable-hello"], "canary"), "na");
    assert_eq!(result(&s["auditable-hello"], "pie"), "pass");
}

/// Kernel modules (ET_REL with .modinfo): whether a signature is appended.
#[test]
fn kernel_module_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("m.c");
    std::fs::write(&src, "static const char license[] __attribute__((section(\".modinfo\"), used)) = \"license=GPL\";\nint init_module(void) { return 0; }\n").unwrap();
    let unsigned = tmp.path().join("unsigned.ko");
    assert!(
        Process::new("gcc")
            .args(["-c", "-O2", "-o"])
            .arg(&unsigned)
            .arg(&src)
            .status()
            .unwrap()
            .success()
    );
    let mut signed = std::fs::read(&unsigned).unwrap();
    // What sign-file appends: the PKCS#7 blob, a module_signature struct, then the magic.
    signed.extend_from_slice(&[0u8; 40]);
    signed.extend_from_slice(b"~Module signature appended~\n");
    std::fs::write(tmp.path().join("signed.ko"), &signed).unwrap();
    let s = scan(tmp.path());
    assert_eq!(s["unsigned.ko"]["elf"]["kind"], "relocatable");
    assert_eq!(s["unsigned.ko"]["elf"]["module_signed"], false);
    assert_eq!(s["signed.ko"]["elf"]["module_signed"], true);
    assert_eq!(result(&s["signed.ko"], "pie"), "na");
}

/// A corrupt Go buildinfo and a `.dep-v0` that inflates to gigabytes are recorded as malformed
/// parts; the rest of the file's facts stand.
#[test]
fn corrupt_embedded_package_lists() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    gcc(d, "base", &["-O2"]);
    let mut buildinfo = b"\xff Go buildinf:\x08\x02".to_vec();
    buildinfo.resize(32, 0);
    buildinfo.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // a 4 GiB version string
    std::fs::write(d.join("buildinfo.bin"), &buildinfo).unwrap();
    let mut bomb = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..64 {
        bomb.write_all(&spaces).unwrap();
    }
    std::fs::write(d.join("dep.bin"), bomb.finish().unwrap()).unwrap();
    for (name, section, file) in [("go", ".go.buildinfo", "buildinfo.bin"), ("rust", ".dep-v0", "dep.bin")] {
        let status = Process::new("objcopy")
            .arg(format!("--add-section={section}={}", d.join(file).display()))
            .arg(d.join("base"))
            .arg(d.join(name))
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::remove_file(d.join(file)).unwrap();
    }
    std::fs::remove_file(d.join("base")).unwrap();
    let s = scan(d);
    assert_eq!(s["go"]["elf"]["language"], "go");
    assert!(
        s["go"]["elf"]["malformed_parts"][0]
            .as_str()
            .unwrap()
            .contains("Go buildinfo"),
        "{}",
        s["go"]["elf"]
    );
    assert_eq!(result(&s["go"], "pie"), "pass", "the other facts stand");
    assert!(
        s["rust"]["elf"]["malformed_parts"][0]
            .as_str()
            .unwrap()
            .contains("inflates to more than"),
        "{}",
        s["rust"]["elf"]
    );
}

/// A DT_NEEDED entry whose name lies outside the dynamic string table: the loader does not check
/// DT_STRSZ and may still load something, so the scan says the entry is unreadable instead of
/// listing no library.
#[test]
fn an_unreadable_needed_entry_is_a_malformed_part() {
    let tmp = tempfile::tempdir().unwrap();
    gcc(tmp.path(), "prog", &["-O2"]);
    let path = tmp.path().join("prog");
    let mut bytes = std::fs::read(&path).unwrap();
    let (offset, size) = {
        let elf = goblin::elf::Elf::parse(&bytes).unwrap();
        assert_eq!(elf.libraries, ["libc.so.6"]);
        let s = elf
            .section_headers
            .iter()
            .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".dynamic"))
            .unwrap();
        (s.sh_offset as usize, s.sh_size as usize)
    };
    let needed = bytes[offset..offset + size]
        .chunks_exact_mut(16)
        .find(|entry| u64::from_le_bytes(entry[..8].try_into().unwrap()) == 1)
        .expect("a DT_NEEDED entry");
    needed[8..].copy_from_slice(&0x7fff_ffffu64.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let s = scan(tmp.path());
    let elf = &s["prog"]["elf"];
    assert_eq!(elf["status"], "elf", "{elf}");
    assert_eq!(elf["needed"], serde_json::json!([]));
    let parts = elf["malformed_parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "{elf}");
    let part = parts[0].as_str().unwrap();
    assert!(
        part.starts_with("DT_NEEDED: string offset 2147483647 is outside the ")
            && part.ends_with("-byte dynamic string table"),
        "{part}"
    );
    assert_eq!(result(&s["prog"], "pie"), "pass", "the other facts stand");
}

/// Zeros with one pseudo-random byte in every 128: a layer of them compresses about 30×, within
/// the 100× the decompression-bomb guard allows, so 1 GiB costs some 30 MiB on disk.
struct MostlyZeros {
    at: u64,
    seed: u64,
}

impl std::io::Read for MostlyZeros {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(0);
        let first = ((128 - self.at % 128) % 128) as usize;
        for b in buf.iter_mut().skip(first).step_by(128) {
            self.seed = self
                .seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.seed >> 56) as u8;
        }
        self.at += buf.len() as u64;
        Ok(buf.len())
    }
}

/// An ELF file over 1 GiB is listed with the reason it was not inspected, whether it sits in a
/// folder or in an image's layer, never left out. The layer really holds its 1 GiB; the folder's
/// copy is sparse. Both scans run under a 256 MiB data limit, so the file is never held in
/// memory.
#[test]
fn elf_files_too_large_to_inspect_are_reported() {
    use sha2::Digest as _;
    use std::io::{Read as _, Write};
    const SIZE: u64 = (1 << 30) + 1;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("rootfs");
    std::fs::create_dir_all(&d).unwrap();
    gcc(&d, "small", &["-O2"]);
    let small = std::fs::read(d.join("small")).unwrap();
    let header = &small[..64];
    let big = std::fs::File::create(d.join("big")).unwrap();
    (&big).write_all(header).unwrap();
    big.set_len(SIZE).unwrap();

    /// The uncompressed layer's diff_id and its zstd stream, computed as it is written.
    struct Layer {
        diff_id: sha2::Sha256,
        zstd: zstd::stream::write::Encoder<'static, Vec<u8>>,
    }
    impl Write for Layer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.diff_id.update(bytes);
            self.zstd.write_all(bytes)?;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.zstd.flush()
        }
    }
    let mut tar = tar::Builder::new(Layer {
        diff_id: sha2::Sha256::new(),
        zstd: zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap(),
    });
    for (name, size, data) in [
        (
            "small",
            small.len() as u64,
            Box::new(&small[..]) as Box<dyn std::io::Read>,
        ),
        (
            "big",
            SIZE,
            Box::new(header.chain(MostlyZeros { at: 0, seed: 1 }.take(SIZE - header.len() as u64))),
        ),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(size);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, data).unwrap();
    }
    let layer = tar.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(layer.diff_id.finalize()));
    let blob = layer.zstd.finish().unwrap();
    assert!(
        (blob.len() as u64) * 100 > SIZE && blob.len() < 64 << 20,
        "the layer passes the bomb guard and stays small on disk: {} bytes",
        blob.len()
    );
    let oci = tmp.path().join("oci");
    std::fs::create_dir_all(oci.join("blobs/sha256")).unwrap();
    let (digest, size) = common::put_blob(&oci, &blob);
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "config": {},
                                    "rootfs": {"type": "layers", "diff_ids": [diff_id]}});
    let (manifest, manifest_size) = common::put_manifest(
        &oci,
        &config,
        vec![
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                                "digest": digest, "size": size}),
        ],
    );
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(oci.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(oci.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();

    let scan_limited = |reference: String, format: &str| {
        let out = Process::new("sh")
            .args(["-c", "ulimit -d 262144 && exec \"$@\"", "sh"])
            .arg(assert_cmd::cargo::cargo_bin("sealkit"))
            .args(["scan", "--format", format, &reference])
            .env("SEALKIT_STORE", tmp.path().join("store"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{reference}: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    };
    for reference in [format!("dir:{}", d.display()), format!("oci:{}:latest", oci.display())] {
        let doc: serde_json::Value = serde_json::from_str(&scan_limited(reference.clone(), "json")).unwrap();
        // An image's scan is the evidence document; a folder's is still the binaries report.
        let binaries = match doc.get("components") {
            Some(components) => components[0]["binaries"].as_array().unwrap(),
            None => doc["binaries"].as_array().unwrap(),
        };
        assert_eq!(binaries.len(), 2, "{reference}: {doc:#}");
        assert_eq!(binaries[0]["path"], "big");
        assert_eq!(
            binaries[0]["elf"],
            serde_json::json!({"status": "not-inspected", "reason": "larger than 1073741824 bytes"}),
            "{reference}"
        );
        assert_eq!(binaries[0]["file"]["size"], SIZE);
        assert_eq!(binaries[1]["elf"]["status"], "elf", "{reference}");
        let table = scan_limited(reference.clone(), "table");
        let counted = match doc.get("components") {
            Some(_) => table.contains("1 malformed or not inspected"),
            None => table.ends_with("2 ELF files, 0 malformed, 1 not inspected\n"),
        };
        assert!(
            table.contains("not inspected: larger than 1073741824 bytes") && counted,
            "{reference}: {table}"
        );
    }
}

/// A file of a `dir:` folder that cannot be read may be an ELF file: it is listed with the
/// reason, not left out. Run as `nobody` when the tests run as root, who could read it.
#[test]
fn an_unreadable_file_in_a_folder_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    gcc(d, "readable", &["-O2"]);
    std::fs::copy(d.join("readable"), d.join("secret")).unwrap();
    std::fs::set_permissions(d.join("secret"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    let mut command = Process::new("setpriv");
    match root {
        true => command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]),
        false => command.arg("--keep-groups"),
    };
    let out = command
        .arg(assert_cmd::cargo::cargo_bin("sealkit"))
        .args(["scan", "--format", "json"])
        .arg(format!("dir:{}", d.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let binaries = doc["binaries"].as_array().unwrap();
    assert_eq!(binaries.len(), 2, "{doc:#}");
    assert_eq!(binaries[0]["path"], "readable");
    assert_eq!(binaries[0]["elf"]["status"], "elf");
    assert_eq!(binaries[1]["path"], "secret");
    assert_eq!(
        binaries[1]["elf"],
        serde_json::json!({"status": "not-inspected", "reason": "cannot be read: Permission denied (os error 13)"})
    );
    assert_eq!(binaries[1]["file"]["mode"], 0);
}
