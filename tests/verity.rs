//! sealkit's dm-verity hash tree against veritysetup's (cryptsetup, which no one here wrote):
//! for data of one block, a full hash block, one block more (two levels) and one more than two
//! full levels (three), the same root hash and the same tree bytes, and veritysetup verifies
//! the data with sealkit's tree appended.

use std::path::Path;
use std::process::Command;

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
