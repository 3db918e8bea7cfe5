//! Everything the SBOM needs from file contents, gathered while the image is flattened: the
//! SHA-1 of every regular file, the catalogers' files, and the facts of every ELF file
//! (inspected in parallel batches of bounded size). One pass over each layer, not three.
//!
//! Catalogers' files are kept as the merged view will have them: a later layer's copy of a path
//! replaces an earlier one's, and all of them together stay within [`KEPT_BUDGET`]; a file that
//! would exceed it is not read, and said so (`not_read`), rather than exhausting memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::image::rootfs::{ContentRef, Tap};
use crate::inspect::elf::{self, Inspection};
use crate::inspect::scan::{self, MAX_ELF_BYTES};

/// ELF bytes held before a parallel batch is inspected: the largest share of sbom's memory, and
/// already dozens of files to share between the cores.
const BATCH_BYTES: usize = 16 << 20;

/// Bytes of catalogers' files kept at once, in all: many times what a real image has (its
/// package databases are a few MiB), and a fixed bound whatever the image holds.
pub const KEPT_BUDGET: u64 = 256 << 20;

struct Current {
    at: ContentRef,
    path: PathBuf,
    sha1: sha1::Sha1,
    keep: bool,
    /// `None` until the first bytes say whether it is an ELF file.
    elf: Option<bool>,
    elf_possible: bool,
    /// An ELF file this large is reported, not read.
    too_large: bool,
    size: usize,
    bytes: Vec<u8>,
}

pub struct Gather<'a> {
    select: &'a dyn Fn(&Path) -> bool,
    limit: u64,
    current: Option<Current>,
    pub sha1: BTreeMap<ContentRef, String>,
    pub kept: BTreeMap<ContentRef, Vec<u8>>,
    /// The latest kept copy of each path, and the bytes all kept copies hold.
    kept_at: BTreeMap<PathBuf, ContentRef>,
    kept_bytes: u64,
    /// Catalogers' files not read, and why.
    pub not_read: BTreeMap<ContentRef, String>,
    pub elf: BTreeMap<ContentRef, Inspection>,
    batch: Vec<(ContentRef, Vec<u8>)>,
    batch_bytes: usize,
}

impl<'a> Gather<'a> {
    /// Keeps the bytes of the files `select` picks, up to `limit` bytes each.
    pub fn new(select: &'a dyn Fn(&Path) -> bool, limit: u64) -> Self {
        Gather {
            select,
            limit,
            current: None,
            sha1: BTreeMap::new(),
            kept: BTreeMap::new(),
            kept_at: BTreeMap::new(),
            kept_bytes: 0,
            not_read: BTreeMap::new(),
            elf: BTreeMap::new(),
            batch: Vec::new(),
            batch_bytes: 0,
        }
    }

    fn inspect_batch(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let results: Vec<(ContentRef, Inspection)> = batch
            .into_par_iter()
            .map(|(at, bytes)| (at, elf::inspect(&bytes)))
            .collect();
        self.elf.extend(results);
    }

    /// Inspects what is still pending; call once the image is flattened.
    pub fn finish(&mut self) {
        self.inspect_batch();
    }
}

impl Tap for Gather<'_> {
    fn begin(&mut self, path: &Path, size: u64, at: ContentRef) -> bool {
        let mut keep = (self.select)(path);
        if keep {
            // This copy replaces the one an earlier layer kept.
            if let Some(earlier) = self.kept_at.remove(path)
                && let Some(bytes) = self.kept.remove(&earlier)
            {
                self.kept_bytes -= bytes.len() as u64;
            }
            let reason = if size > self.limit {
                Some(format!("larger than {} bytes: not read", self.limit))
            } else if self.kept_bytes + size > KEPT_BUDGET {
                Some(format!(
                    "not read: the catalogers' files of this image would hold more than {KEPT_BUDGET} bytes"
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                self.not_read.insert(at, reason);
                keep = false;
            }
        }
        self.current = Some(Current {
            at,
            path: path.to_path_buf(),
            sha1: sha1::Sha1::default(),
            keep,
            elf: None,
            elf_possible: size >= 4,
            too_large: size > MAX_ELF_BYTES,
            size: usize::try_from(size).unwrap_or(0),
            bytes: Vec::new(),
        });
        true
    }

    fn chunk(&mut self, bytes: &[u8]) {
        let Some(c) = self.current.as_mut() else { return };
        sha1::Digest::update(&mut c.sha1, bytes);
        if c.elf.is_none() && c.elf_possible {
            // The first chunk of a file holds at least its 4 magic bytes (or is the whole file).
            c.elf = Some(elf::is_elf(bytes));
        }
        if c.keep || (c.elf == Some(true) && !c.too_large) {
            if c.bytes.is_empty() {
                // One allocation of the file's size, rather than doubling up to twice as much.
                c.bytes.reserve_exact(c.size);
            }
            c.bytes.extend_from_slice(bytes);
        }
    }

    fn end(&mut self) {
        let Some(mut c) = self.current.take() else { return };
        self.sha1.insert(c.at, hex::encode(sha1::Digest::finalize(c.sha1)));
        let elf = c.elf == Some(true);
        if c.keep {
            self.kept_bytes += c.bytes.len() as u64;
            self.kept_at.insert(c.path, c.at);
            // A file both kept and inspected as ELF (none a cataloger reads, so far) needs two copies.
            let kept = if elf {
                c.bytes.clone()
            } else {
                std::mem::take(&mut c.bytes)
            };
            self.kept.insert(c.at, kept);
        }
        if elf && c.too_large {
            self.elf.insert(c.at, scan::too_large());
        } else if elf {
            self.batch_bytes += c.bytes.len();
            self.batch.push((c.at, c.bytes));
            if self.batch_bytes >= BATCH_BYTES {
                self.inspect_batch();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(gather: &mut Gather, path: &str, bytes: &[u8], declared: u64, at: ContentRef) {
        gather.begin(Path::new(path), declared, at);
        gather.chunk(bytes);
        gather.end();
    }

    /// A later layer's copy replaces the kept one; past the budget, files are not read.
    #[test]
    fn kept_files_are_the_latest_copies_within_the_budget() {
        let all = |_: &Path| true;
        let mut gather = Gather::new(&all, u64::MAX);
        let at = |layer| ContentRef { layer, ordinal: 0 };
        for layer in 0..20 {
            file(&mut gather, "etc/os-release", b"ID=x\n", 5, at(layer));
        }
        assert_eq!(gather.kept.len(), 1);
        assert_eq!(gather.kept[&at(19)], b"ID=x\n");
        assert_eq!(gather.kept_bytes, 5);
        file(&mut gather, "var/lib/dpkg/status", b"", KEPT_BUDGET, at(20));
        assert_eq!(
            gather.not_read[&at(20)],
            format!("not read: the catalogers' files of this image would hold more than {KEPT_BUDGET} bytes")
        );
        assert_eq!(gather.kept.len(), 1);
    }
}
