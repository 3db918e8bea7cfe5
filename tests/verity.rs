//! sealkit's dm-verity hash tree against veritysetup's (cryptsetup, which no one here wrote):
//! for data of one block, a full hash block, one block more (two levels) and one more than two
//! full levels (three), the same root hash and the same tree bytes, and veritysetup verifies
//! the data with sealkit's tree appended. Then the whole of `--verity`: the demo's root as a
//! squashfs under dm-verity, reproducible, verified by veritysetup and read by unsquashfs, booted
//! under qemu from a signed UKI on an EFI system partition with Secure Boot on and the test's
//! keys enrolled; and refused by the kernel once one byte of it is changed.

use std::path::Path;
use std::process::Command;

mod common;

fn veritysetup_present() -> bool {
    if Command::new("veritysetup").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI installs cryptsetup-bin (scripts/test)"
    );
    false
}

/// Data no block of which repeats: a counter in every 8 bytes.
fn data(blocks: usize) -> Vec<u8> {
    (0..blocks * 512).flat_map(|i| (i as u64).to_le_bytes()).collect()
}

/// `veritysetup ACTION` on a data image of `data_len` bytes with its tree appended, no superblock.
fn veritysetup(action: &str, data_len: usize, salt: &[u8]) -> Command {
    let mut command = Command::new("veritysetup");
    command
        .args([
            action,
            "--no-superblock",
            "--data-block-size=4096",
            "--hash-block-size=4096",
        ])
        .arg(format!("--hash-offset={data_len}"))
        .arg(format!("--data-blocks={}", data_len / 4096))
        .arg(format!("--salt={}", hex::encode(salt)));
    command
}

fn root_hash(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:").map(|h| h.trim().to_owned()))
        .expect("veritysetup prints the root hash")
}

#[test]
fn the_hash_tree_is_veritysetups() {
    if !veritysetup_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let salt = hex::decode("000000000000000000000000000000000000000000000000000000005ea1c0de").unwrap();
    for blocks in [1, 128, 129, 128 * 128 + 1] {
        let bytes = data(blocks);
        let tree = sealkit::build::verity::hash_tree(bytes.as_slice(), &salt).unwrap();
        assert_eq!(tree.data_blocks, blocks as u64);

        // veritysetup's tree, appended to a copy of the data.
        let theirs = tmp.path().join(format!("theirs-{blocks}.img"));
        std::fs::write(&theirs, &bytes).unwrap();
        let format = veritysetup("format", bytes.len(), &salt)
            .arg(&theirs)
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(format.status.success(), "{}", String::from_utf8_lossy(&format.stderr));
        assert_eq!(root_hash(&format.stdout), hex::encode(tree.root), "{blocks} blocks");
        let written = std::fs::read(&theirs).unwrap();
        assert!(
            written[bytes.len()..] == tree.hash[..],
            "{blocks} blocks: the trees differ"
        );

        // sealkit's tree, appended, verified by veritysetup.
        let ours = tmp.path().join(format!("ours-{blocks}.img"));
        std::fs::write(&ours, [bytes.as_slice(), &tree.hash].concat()).unwrap();
        let verify = |image: &Path| {
            veritysetup("verify", bytes.len(), &salt)
                .arg(image)
                .arg(image)
                .arg(hex::encode(tree.root))
                .output()
                .unwrap()
        };
        let verified = verify(&ours);
        assert!(
            verified.status.success(),
            "{}",
            String::from_utf8_lossy(&verified.stderr)
        );
        // One byte of the data changed: veritysetup finds it.
        let mut changed = std::fs::read(&ours).unwrap();
        changed[bytes.len() / 2] ^= 1;
        std::fs::write(&ours, changed).unwrap();
        assert!(
            !verify(&ours).status.success(),
            "{blocks} blocks: a changed byte verified"
        );
    }
}

/// `--verity` on the demo plus Debian's dmsetup (examples/verity.yml): the root image, its
/// parameters on the command line, and the boots.
#[test]
fn a_verity_root_is_reproducible_boots_and_stops_at_a_changed_byte() {
    if !veritysetup_present() {
        return;
    }
    let images: Vec<&str> = common::DEMO_IMAGES.iter().copied().chain(["dmsetup"]).collect();
    let Some(layouts) = common::fixture_layouts(&images) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    common::import_fixtures(&store, &layouts, &images);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    // `signer`: a folder of `sealkit keygen --secure-boot` keys whose db key signs the UKI.
    let build = |out: &Path, formats: &[&str], signer: Option<&Path>| {
        let mut c = common::sealkit(&store);
        c.env("SOURCE_DATE_EPOCH", "1796083200")
            .arg("build")
            .arg(examples.join("demo.yml"))
            .arg(examples.join("verity.yml"))
            .arg("--verity")
            .arg("-o")
            .arg(out);
        for format in formats {
            c.args(["--format", format]);
        }
        if let Some(keys) = signer {
            c.arg("--sign-uki")
                .arg(keys.join("db.key"))
                .arg("--sign-cert")
                .arg(keys.join("db.crt"));
        }
        c.assert().success();
    };
    // What cannot boot a verity root is refused before anything is written: a format with no
    // room for the root, and init images without dmsetup.
    let refused = |configs: &[&str], format: &str, said: &str| {
        let out = tmp.path().join("refused");
        let assert = common::sealkit(&store)
            .arg("build")
            .args(configs.iter().map(|c| examples.join(c)))
            .args(["--verity", "--format", format, "-o"])
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains("error[bad-verity-root]") && stderr.contains(said),
            "{stderr}"
        );
        assert!(!out.join("demo-root.img").exists() && !out.join("demo.efi").exists());
    };
    refused(
        &["demo.yml", "verity.yml"],
        "iso-efi",
        "--format iso-efi cannot carry a root",
    );
    refused(&["demo.yml"], "uki", "the init images hold no dmsetup");

    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    build(&one, &["esp", "kernel+initrd"], None);
    build(&two, &["esp", "kernel+initrd"], None);
    for file in ["demo-root.img", "demo-esp.img", "demo-initrd.img", "demo-cmdline"] {
        assert!(
            std::fs::read(one.join(file)).unwrap() == std::fs::read(two.join(file)).unwrap(),
            "{file} differs between two builds"
        );
    }

    // The command line names the tree; veritysetup agrees that it covers the root image.
    let cmdline = std::fs::read_to_string(one.join("demo-cmdline")).unwrap();
    let parameter = cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix("sealkit.verity="))
        .expect("the verity parameter is on the command line");
    let [blocks, root_hash, salt]: [&str; 3] = parameter.split(':').collect::<Vec<_>>().try_into().unwrap();
    let data_len = blocks.parse::<usize>().unwrap() * 4096;
    let image = one.join("demo-root.img");
    let verify = veritysetup("verify", data_len, &hex::decode(salt).unwrap())
        .arg(&image)
        .arg(&image)
        .arg(root_hash)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    // squashfs-tools reads the root: the image's own init and its containers are in it.
    let listed = Command::new("unsquashfs").arg("-lls").arg(&image).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listing = String::from_utf8_lossy(&listed.stdout);
    for path in [
        "squashfs-root/init",
        "squashfs-root/containers/onboot/000-selftest/config.json",
        "squashfs-root/sbin/dmsetup",
    ] {
        assert!(listing.contains(path), "{path} is not in the root:\n{listing}");
    }

    if Command::new("qemu-system-x86_64").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs qemu-system-x86 (scripts/test)"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let boot = |image: &Path, secure_boot_vars: Option<&Path>| {
        let mut command = Command::new(root.join("scripts/boot"));
        command.arg(image).arg("600");
        if let Some(vars) = secure_boot_vars {
            command.env("SECURE_BOOT_VARS", vars);
        }
        let status = command.output().unwrap();
        let console = std::fs::read_to_string(format!("{}-console.log", image.display())).unwrap_or_default();
        (status.status.success(), console)
    };
    // The whole chain: the firmware checks the signed UKI (kernel, first stage, the command
    // line with the root hash) against the enrolled db, the kernel checks every block of the
    // root. The signature leaves the root image as it was.
    let Some(virt_fw_vars) = common::virt_fw_vars() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs virt-firmware (scripts/test)"
        );
        return;
    };
    let keys = tmp.path().join("keys");
    common::sealkit(&store)
        .args(["keygen", "--secure-boot", "-o"])
        .arg(&keys)
        .assert()
        .success();
    let signed = tmp.path().join("signed");
    build(&signed, &["esp"], Some(&keys));
    assert!(std::fs::read(signed.join("demo-root.img")).unwrap() == std::fs::read(&image).unwrap());
    let vars = tmp.path().join("vars.fd");
    common::enrolled_vars(&virt_fw_vars, &keys, &vars);
    let (passed, console) = boot(&signed.join("demo-esp.img"), Some(&vars));
    assert!(passed, "{console}");
    assert!(
        console.contains("Kernel is locked down from EFI Secure Boot"),
        "{console}"
    );
    assert!(
        console.contains(&format!(
            "sealkit-verity: /dev/vda: {blocks} blocks, root hash {root_hash}"
        )),
        "{console}"
    );
    assert!(console.contains("SEALKIT-SELFTEST: PASS"), "{console}");

    // One byte of the root changed (in its first block, which mounting reads): the kernel's
    // verity target refuses the block, and the image never starts.
    let mut changed = std::fs::read(&image).unwrap();
    changed[100] ^= 1;
    std::fs::write(two.join("demo-root.img"), changed).unwrap();
    let (passed, console) = boot(&two.join("demo"), None);
    assert!(!passed, "{console}");
    assert!(console.contains("device-mapper: verity"), "{console}");
    assert!(console.contains("data block 0 is corrupted"), "{console}");
    assert!(
        console.contains("sealkit-verity: the verified root does not mount"),
        "{console}"
    );
    assert!(!console.contains("SEALKIT-SELFTEST"), "{console}");
}
