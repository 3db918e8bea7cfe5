//! Everything the SBOM needs from file contents, gathered while the image is flattened: the
//! SHA-1 of every regular file, the catalogers' files, and the facts of every ELF file
//! (inspected in parallel batches of bounded size). One pass over each layer, not three.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::image::rootfs::{ContentRef, Tap};
use crate::inspect::elf::{self, Inspection};
use crate::inspect::scan::{self, MAX_ELF_BYTES};

/// ELF bytes held before a parallel batch is inspected: the largest share of sbom's memory, and
/// already dozens of files to share between the cores.
const BATCH_BYTES: usize = 16 << 20;

struct Current {
    at: ContentRef,
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
    pub too_large: BTreeMap<ContentRef, PathBuf>,
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
            too_large: BTreeMap::new(),
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
        let selected = (self.select)(path);
        if selected && size > self.limit {
            self.too_large.insert(at, path.to_path_buf());
        }
        self.current = Some(Current {
            at,
            sha1: sha1::Sha1::default(),
            keep: selected && size <= self.limit,
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
        let Some(c) = self.current.take() else { return };
        self.sha1.insert(c.at, hex::encode(sha1::Digest::finalize(c.sha1)));
        if c.keep {
            self.kept.insert(c.at, c.bytes.clone());
        }
        if c.elf == Some(true) && c.too_large {
            self.elf.insert(c.at, scan::too_large());
        } else if c.elf == Some(true) {
            self.batch_bytes += c.bytes.len();
            self.batch.push((c.at, c.bytes));
            if self.batch_bytes >= BATCH_BYTES {
                self.inspect_batch();
            }
        }
    }
}
