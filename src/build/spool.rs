//! The bytes of every file the image will hold, copied once into one scratch file while the
//! layers are flattened (the same pass that catalogs them). Layers are compressed streams that
//! cannot be read out of order, and the writers emit entries in path order: the spool gives them
//! random access with bounded memory, whatever the image size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::image::rootfs::{ContentRef, Tap};

use super::tree::Content;

pub struct Spool {
    path: PathBuf,
    writer: BufWriter<File>,
    reader: File,
    len: u64,
}

impl Spool {
    /// A new, empty spool at `path` (inside the build's staging folder).
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::options().write(true).create_new(true).open(path)?;
        Ok(Spool {
            path: path.to_path_buf(),
            // Its own open file: a clone would share the writer's offset, which reads move.
            reader: File::open(path)?,
            writer: BufWriter::with_capacity(1 << 20, file),
            len: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends everything `from` yields.
    pub fn append(&mut self, from: &mut dyn Read) -> io::Result<Content> {
        let offset = self.len;
        let copied = io::copy(from, &mut self.writer)?;
        self.len += copied;
        Ok(Self::content(offset, copied))
    }

    /// A stored range. A range is the identity the writers make hard links by, and every empty
    /// file would share its offset with the next: empty contents are not ranges.
    pub fn content(offset: u64, len: u64) -> Content {
        match len {
            0 => Content::Inline(Vec::new().into()),
            len => Content::Spool { offset, len },
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Makes everything appended so far readable; call before [`Spool::open`].
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Reads one stored range.
    pub fn open(&self, offset: u64, len: u64) -> io::Result<impl Read + '_> {
        crate::image::resolve::section(&self.reader, offset, len)
    }

    /// The bytes of a content, whatever holds them.
    pub fn read<'a>(&'a self, content: &'a Content) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match content {
            Content::Spool { offset, len } => Box::new(self.open(*offset, *len)?),
            Content::Inline(bytes) => Box::new(&bytes[..]),
        })
    }
}

/// Copies every regular file of one image into the spool while it is flattened, and remembers
/// where each went. A write error is kept and reported once the pass is over ([`SpoolTap::finish`]):
/// taps cannot fail mid-stream.
pub struct SpoolTap<'a> {
    spool: &'a mut Spool,
    stored: BTreeMap<ContentRef, Content>,
    current: Option<(ContentRef, u64)>,
    error: Option<io::Error>,
}

impl<'a> SpoolTap<'a> {
    pub fn new(spool: &'a mut Spool) -> Self {
        SpoolTap {
            spool,
            stored: BTreeMap::new(),
            current: None,
            error: None,
        }
    }

    /// Where each file's bytes were stored, by where they were in the layers.
    pub fn finish(self) -> io::Result<BTreeMap<ContentRef, Content>> {
        match self.error {
            Some(e) => Err(e),
            None => {
                self.spool.flush()?;
                Ok(self.stored)
            }
        }
    }
}

impl Tap for SpoolTap<'_> {
    fn begin(&mut self, _: &Path, _: u64, at: ContentRef) -> bool {
        self.current = Some((at, self.spool.len));
        self.error.is_none()
    }

    fn chunk(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.spool.write(bytes)
        {
            self.error = Some(e);
        }
    }

    fn end(&mut self) {
        if let Some((at, offset)) = self.current.take() {
            self.stored.insert(at, Spool::content(offset, self.spool.len - offset));
        }
    }
}
