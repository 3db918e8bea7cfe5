//! dm-verity's hash tree (format 1, SHA-256, 4096-byte data and hash blocks): what the kernel
//! checks every block of a read-only root against, so that a root changed by one byte after
//! it was gated reads as an I/O error instead of booting. The root hash, on the UKI's signed
//! command line, is what Secure Boot's signature then covers.
//!
//! Each data block's digest is SHA-256(salt ‖ block); the digests are packed 128 to a hash
//! block, zero-padded, and hashed again the same way, level by level, until one digest is
//! left: the root hash (one block of data has no tree, its digest is the root). The tree is stored top level first, as veritysetup writes
//! it, so it can be appended to the data with `hash_start` = the data's block count.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

pub const BLOCK: usize = 4096;
const DIGEST: usize = 32;
const PER_BLOCK: usize = BLOCK / DIGEST;

/// A computed tree: its bytes (top level first) and root hash.
pub struct Tree {
    pub data_blocks: u64,
    pub hash: Vec<u8>,
    pub root: [u8; 32],
}

fn digest(salt: &[u8], block: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(block);
    hasher.finalize().into()
}

/// Packs `digests` into zero-padded hash blocks.
fn pack(digests: &[[u8; 32]]) -> Vec<u8> {
    let mut blocks = Vec::with_capacity(digests.len().div_ceil(PER_BLOCK) * BLOCK);
    for chunk in digests.chunks(PER_BLOCK) {
        for d in chunk {
            blocks.extend_from_slice(d);
        }
        blocks.resize(blocks.len().next_multiple_of(BLOCK), 0);
    }
    blocks
}

/// The tree of `data`, read to its end, whose length must be a whole number of blocks (at
/// least one).
pub fn hash_tree(mut data: impl Read, salt: &[u8]) -> io::Result<Tree> {
    let mut level = Vec::new();
    let mut block = vec![0u8; BLOCK];
    loop {
        let mut filled = 0;
        while filled < BLOCK {
            match data.read(&mut block[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        match filled {
            0 => break,
            BLOCK => level.push(digest(salt, &block)),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the data is not a whole number of {BLOCK}-byte blocks"),
                ));
            }
        }
    }
    if level.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no data to protect"));
    }
    let data_blocks = level.len() as u64;
    // Levels from the data up, until one digest is left: one block of data is its own root.
    let mut levels = Vec::new();
    while level.len() > 1 {
        let packed = pack(&level);
        level = packed.chunks(BLOCK).map(|b| digest(salt, b)).collect();
        levels.push(packed);
    }
    let root = level[0];
    let hash = levels.into_iter().rev().flatten().collect();
    Ok(Tree {
        data_blocks,
        hash,
        root,
    })
}

impl Tree {
    /// The device-mapper table of this tree appended to its data on one device `device`:
    /// `<start> <sectors> verity <version> <data dev> <hash dev> <data block> <hash block>
    /// <data blocks> <hash start> <algorithm> <root> <salt>`.
    pub fn table(&self, device: &str, salt: &[u8]) -> String {
        format!(
            "0 {} verity 1 {device} {device} {BLOCK} {BLOCK} {} {} sha256 {} {}",
            self.data_blocks * (BLOCK as u64 / 512),
            self.data_blocks,
            self.data_blocks,
            hex::encode(self.root),
            if salt.is_empty() {
                "-".to_owned()
            } else {
                hex::encode(salt)
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_stop_at_one_digest_and_partial_blocks_are_refused() {
        let salt = [7u8; 32];
        let tree = hash_tree(&[1u8; BLOCK][..], &salt).unwrap();
        assert_eq!(tree.data_blocks, 1);
        assert!(tree.hash.is_empty());
        assert_eq!(tree.root, digest(&salt, &[1u8; BLOCK]));
        let two = hash_tree(&[1u8; 2 * BLOCK][..], &salt).unwrap();
        assert_eq!(two.hash.len(), BLOCK);
        assert_eq!(&two.hash[..32], &digest(&salt, &[1u8; BLOCK]));
        assert!(two.hash[64..].iter().all(|&b| b == 0));
        assert_eq!(two.root, digest(&salt, &two.hash));
        assert!(hash_tree(&[0u8; 100][..], &salt).is_err());
        assert!(hash_tree(&[][..], &salt).is_err());
        assert!(
            tree.table("/dev/vda", &salt)
                .starts_with("0 8 verity 1 /dev/vda /dev/vda 4096 4096 1 1 sha256 ")
        );
    }
}
