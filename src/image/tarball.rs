//! The one tar writer: PAX (POSIX.1-2001) archives as Go's archive/tar writes them — a ustar
//! header per entry, preceded by a PAX extended header only for what ustar cannot hold (long
//! names and link targets, large ids, sizes and times, xattrs, and records a caller adds, such as
//! LinuxKit's `LINUXKIT.source`). Every output of sealkit that is a tar goes through here: the
//! OS image's tar, `image export`, layers made from folders. A pure function of its input:
//! records in key order, no user or group names, no access or change times.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What an entry is, with what only that kind carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind<'a> {
    /// A regular file of `size` bytes, which follow its header.
    File {
        size: u64,
    },
    /// Another name of the file written earlier at `target`.
    HardLink {
        target: &'a Path,
    },
    Dir,
    Symlink {
        target: &'a Path,
    },
    Char {
        major: u32,
        minor: u32,
    },
    Block {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One entry's header.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    /// Relative, without a trailing slash (folders get theirs here).
    pub path: &'a Path,
    pub kind: EntryKind<'a>,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Extended attributes, written as `SCHILY.xattr.NAME` records.
    pub xattrs: &'a BTreeMap<String, Vec<u8>>,
    /// Further PAX records of the caller's.
    pub records: BTreeMap<String, Vec<u8>>,
}

/// The largest value each numeric ustar field holds in octal; beyond it, a PAX record holds it.
const MAX_ID: u64 = 0o7_777_777;
const MAX_SIZE: u64 = 0o77_777_777_777;
const MAX_TIME: u64 = 0o77_777_777_777;

pub struct Writer<W: Write> {
    builder: tar::Builder<W>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer {
            builder: tar::Builder::new(out),
        }
    }

    /// Appends an entry; `body` gives a file's bytes (exactly its size) and is ignored for others.
    pub fn append(&mut self, entry: &Header, body: impl Read) -> io::Result<()> {
        let mut records = entry.records.clone();
        for (name, value) in entry.xattrs {
            records.insert(format!("SCHILY.xattr.{name}"), value.clone());
        }
        let mut header = tar::Header::new_ustar();
        let mut numeric = |key: &str, value: u64, max: u64| {
            if value > max {
                records.insert(key.to_owned(), value.to_string().into_bytes());
                0
            } else {
                value
            }
        };
        header.set_mode(entry.mode & 0o7777);
        header.set_uid(numeric("uid", entry.uid, MAX_ID));
        header.set_gid(numeric("gid", entry.gid, MAX_ID));
        header.set_mtime(numeric("mtime", entry.mtime, MAX_TIME));
        let mut size = 0;
        let mut link = None;
        match entry.kind {
            EntryKind::File { size: n } => {
                header.set_entry_type(tar::EntryType::Regular);
                size = n;
            }
            EntryKind::HardLink { target } => {
                header.set_entry_type(tar::EntryType::Link);
                link = Some(target);
            }
            EntryKind::Dir => header.set_entry_type(tar::EntryType::Directory),
            EntryKind::Symlink { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                link = Some(target);
            }
            EntryKind::Char { major, minor } | EntryKind::Block { major, minor } => {
                header.set_entry_type(if matches!(entry.kind, EntryKind::Char { .. }) {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                });
                header.set_device_major(major)?;
                header.set_device_minor(minor)?;
            }
            EntryKind::Fifo => header.set_entry_type(tar::EntryType::Fifo),
        }
        header.set_size(numeric("size", size, MAX_SIZE));
        let mut name = entry.path.as_os_str().as_bytes().to_vec();
        if entry.kind == EntryKind::Dir {
            name.push(b'/');
        }
        // Names and targets that do not fit the ustar fields (split at a slash into prefix and
        // name, as the tar crate does) go in PAX records, as Go writes them; the header keeps a
        // truncated copy for readers that know ustar only.
        if header.set_path(std::ffi::OsStr::from_bytes(&name)).is_err() {
            records.insert("path".into(), name.clone());
            let ustar = header
                .as_ustar_mut()
                .ok_or_else(|| io::Error::other("not a ustar header"))?;
            set_truncated(&mut ustar.name, &name);
        }
        if let Some(target) = link
            && header.set_link_name(target).is_err()
        {
            let target = target.as_os_str().as_bytes();
            records.insert("linkpath".into(), target.to_vec());
            let ustar = header
                .as_ustar_mut()
                .ok_or_else(|| io::Error::other("not a ustar header"))?;
            set_truncated(&mut ustar.linkname, target);
        }
        if !records.is_empty() {
            self.builder
                .append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        header.set_cksum();
        if size > 0 {
            self.builder.append(
                &header,
                Exact {
                    inner: body.take(size),
                    left: size,
                    size,
                },
            )
        } else {
            self.builder.append(&header, io::empty())
        }
    }

    /// The output, as written so far.
    pub fn get_ref(&self) -> &W {
        self.builder.get_ref()
    }

    /// Writes the two end blocks and returns the output.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }
}

/// A body that must give its header's size: the tar crate pads after whatever it copied, so a
/// file that shrank while it was read would otherwise leave an archive whose every later entry
/// is misread.
struct Exact<R> {
    inner: R,
    left: u64,
    size: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the content ended after {} of its {} bytes (did it change while it was read?)",
                    self.size - self.left,
                    self.size
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn set_truncated(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field.fill(0);
    field[..n].copy_from_slice(&value[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(Header, &[u8])]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new());
        for (h, body) in entries {
            w.append(h, *body).unwrap();
        }
        w.finish().unwrap()
    }

    fn header<'a>(path: &'a str, kind: EntryKind<'a>, none: &'a BTreeMap<String, Vec<u8>>) -> Header<'a> {
        Header {
            path: Path::new(path),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 1,
            xattrs: none,
            records: BTreeMap::new(),
        }
    }

    /// Path, type, size, uid (PAX record included), link target, bytes.
    type ReadBack = (String, tar::EntryType, u64, u64, Option<String>, Vec<u8>);

    /// What the tar crate (and so GNU tar, which agrees on PAX) reads back.
    fn read_back(bytes: &[u8]) -> Vec<ReadBack> {
        let mut out = Vec::new();
        let mut archive = tar::Archive::new(bytes);
        for entry in archive.entries().unwrap() {
            let mut e = entry.unwrap();
            let path = e.path().unwrap().display().to_string();
            let link = e.link_name().unwrap().map(|l| l.display().to_string());
            let (kind, uid) = (e.header().entry_type(), e.header().uid().unwrap());
            let mut uid = uid;
            let mut body = Vec::new();
            if let Some(ext) = e.pax_extensions().unwrap() {
                for r in ext {
                    let r = r.unwrap();
                    if r.key().unwrap() == "uid" {
                        uid = r.value().unwrap().parse().unwrap();
                    }
                }
            }
            e.read_to_end(&mut body).unwrap();
            out.push((path, kind, e.size(), uid, link, body));
        }
        out
    }

    #[test]
    fn long_names_targets_and_ids_survive() {
        let none = BTreeMap::new();
        let long = format!("{}/{}", "d".repeat(150), "f".repeat(90));
        let longer = "x".repeat(300);
        let mut big_uid = header("big", EntryKind::File { size: 2 }, &none);
        big_uid.uid = 1 << 32;
        let bytes = archive(&[
            (header(&long, EntryKind::File { size: 3 }, &none), b"abc"),
            (header(&longer, EntryKind::Dir, &none), b""),
            (
                header(
                    "link",
                    EntryKind::Symlink {
                        target: Path::new(&longer),
                    },
                    &none,
                ),
                b"",
            ),
            (big_uid, b"hi"),
        ]);
        let back = read_back(&bytes);
        assert_eq!(back[0].0, long, "split into prefix and name, no PAX record needed");
        assert_eq!(back[0].5, b"abc");
        assert_eq!(back[1].0, format!("{longer}/"));
        assert_eq!(back[2].4.as_deref(), Some(longer.as_str()));
        assert_eq!((back[3].3, back[3].5.as_slice()), (1 << 32, &b"hi"[..]));
    }

    #[test]
    fn a_body_shorter_than_its_size_is_an_error() {
        let none = BTreeMap::new();
        let mut w = Writer::new(Vec::new());
        let e = w
            .append(&header("f", EntryKind::File { size: 10 }, &none), &b"abc"[..])
            .unwrap_err();
        assert!(e.to_string().contains("ended after 3 of its 10 bytes"), "{e}");
    }

    #[test]
    fn records_are_sorted_and_only_where_needed() {
        let xattrs = BTreeMap::from([
            ("user.b".to_owned(), b"2".to_vec()),
            ("user.a".to_owned(), b"1".to_vec()),
        ]);
        let mut h = header("f", EntryKind::File { size: 0 }, &xattrs);
        h.records.insert("LINUXKIT.source".into(), b"img".to_vec());
        let with = archive(&[(h, b"")]);
        let text = String::from_utf8_lossy(&with);
        let (a, b, s) = (
            text.find("SCHILY.xattr.user.a").unwrap(),
            text.find("SCHILY.xattr.user.b").unwrap(),
            text.find("LINUXKIT.source").unwrap(),
        );
        assert!(s < a && a < b, "records in key order");
        let none = BTreeMap::new();
        let plain = archive(&[(header("f", EntryKind::File { size: 0 }, &none), b"")]);
        assert_eq!(plain.len(), 512 * 3, "one header and the two end blocks: no PAX header");
    }
}
