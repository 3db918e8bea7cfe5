//! A folder read in place as the flattened view of an image (`dir:`): walked once, never copied
//! into the store, its regular files read and hashed on every core of the machine, each shown on
//! the way to a tap (one per thread) as a layer's files are shown to one.
//!
//! The view is the one importing the folder as a layer and flattening it would give, and it is
//! refused where that would be: symlinks are kept as links, never followed, and refused when a
//! relative target climbs out of the root or when links loop; hard links are recorded once (the
//! first path in path order holds the content); devices and fifos are kept. What no layer can
//! hold (a socket) is left out with a note. A regular file this user may not read is kept in the
//! view without its content and listed in [`Folder::unreadable`] with the reason (it may be an
//! ELF file: a scan lists it); any other entry that cannot be read, and a file that changes while
//! it is read, is an error naming it: the view never silently differs from the folder.

use std::collections::BTreeMap;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::digest::{Digest, HashingWriter};
use super::error::{Code, ImageError, Result};
use super::rootfs::{ContentRef, Entry, Kind, Rootfs, Tap, escapes};

/// A folder's view, and what it left out.
pub struct Folder {
    pub rootfs: Rootfs,
    /// Entries no image can hold, each with the reason it was left out.
    pub notes: Vec<String>,
    /// Regular files that could not be opened or read (path, reason), in path order: in the
    /// view, without content or digest.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The marker of a file that changed while it was read: an error, unlike a file that cannot be.
#[derive(Debug)]
struct Changed;

impl std::fmt::Display for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("changed while it was read")
    }
}

impl std::error::Error for Changed {}

/// Bytes read from a file at a time: large enough that a syscall's cost vanishes beside the
/// hashing, small enough to stay in the core's cache.
const READ_BUFFER: usize = 1 << 17;

/// The file capability attribute: the one extended attribute the facts use. Others a folder may
/// carry (`security.selinux`) describe the host it sits on, not the image.
pub(super) const CAPABILITY: &str = "security.capability";

/// One listed entry, before the files are read.
pub(super) struct Listed {
    pub path: PathBuf,
    pub meta: Metadata,
}

/// What reading one regular file gave.
struct Read1 {
    index: usize,
    sha256: Digest,
    capability: Option<Vec<u8>>,
}

/// Reads the folder `root`: lists it, then reads every regular file once on each thread of the
/// rayon pool, showing its bytes to the thread's tap (made by `make`, turned by `done` into what
/// is returned). The view is the same whatever the number of threads; the taps' results come
/// back in thread order, each having seen the files its thread read.
pub fn read<T: Tap, R: Send>(
    root: &Path,
    make: impl Fn() -> T + Sync,
    done: impl Fn(T) -> R + Sync,
) -> Result<(Folder, Vec<R>)> {
    let what = format!("dir:{}", root.display());
    let (listed, notes) = list(root, &what)?;

    // Each set of hard links is read once, through its first path.
    let mut first_of: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    let mut link_to: BTreeMap<usize, usize> = BTreeMap::new();
    let mut work = Vec::new();
    for (index, l) in listed.iter().enumerate() {
        if !l.meta.is_file() {
            continue;
        }
        if l.meta.nlink() > 1 {
            let first = *first_of.entry((l.meta.dev(), l.meta.ino())).or_insert(index);
            if first != index {
                link_to.insert(index, first);
                continue;
            }
        }
        work.push(index);
    }
    // Largest first, so that no thread is left with a big file when the others are done.
    work.sort_by_key(|&i| std::cmp::Reverse(listed[i].meta.len()));

    let next = AtomicUsize::new(0);
    let per_thread = rayon::broadcast(|_| {
        let mut tap = make();
        let mut buf = vec![0u8; READ_BUFFER];
        let mut read = Vec::new();
        let mut cannot = Vec::new();
        let mut failed: Option<(usize, ImageError)> = None;
        while let Some(&index) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
            let l = &listed[index];
            let at = content_ref(index);
            match read_file(root, l, at, &mut tap, &mut buf) {
                Ok((sha256, capability)) => read.push(Read1 {
                    index,
                    sha256,
                    capability,
                }),
                Err(e) if e.get_ref().is_none_or(|inner| !inner.is::<Changed>()) => {
                    cannot.push((index, format!("cannot be read: {e}")));
                }
                // The first failing entry in path order is reported, whichever thread met it.
                Err(e) if failed.as_ref().is_none_or(|(f, _)| index < *f) => {
                    failed = Some((index, unreadable(&what, &root.join(&l.path), &e)));
                }
                Err(_) => {}
            }
        }
        (read, cannot, failed, done(tap))
    });

    let mut contents: BTreeMap<usize, Read1> = BTreeMap::new();
    let mut failed: Option<(usize, ImageError)> = None;
    let mut unreadable: BTreeMap<usize, String> = BTreeMap::new();
    let mut results = Vec::with_capacity(per_thread.len());
    for (read, cannot, f, result) in per_thread {
        contents.extend(read.into_iter().map(|r| (r.index, r)));
        unreadable.extend(cannot);
        if let Some((index, e)) = f
            && failed.as_ref().is_none_or(|(g, _)| index < *g)
        {
            failed = Some((index, e));
        }
        results.push(result);
    }
    if let Some((_, e)) = failed {
        return Err(e);
    }

    let mut entries: BTreeMap<PathBuf, Entry> = BTreeMap::new();
    for (index, l) in listed.iter().enumerate() {
        let entry = match link_to.get(&index) {
            // A hard link shares the inode: same content, mode and owner.
            Some(&first) => Entry {
                hardlink_of: Some(listed[first].path.clone()),
                ..entries[&listed[first].path].clone()
            },
            None => entry_of(
                root,
                l,
                index,
                contents.remove(&index),
                unreadable.contains_key(&index),
                &what,
            )?,
        };
        entries.insert(l.path.clone(), entry);
    }
    let rootfs = Rootfs {
        entries,
        layers: Vec::new(),
    };
    for (path, entry) in &rootfs.entries {
        if matches!(entry.kind, Kind::Symlink { .. })
            && let Err(message) = rootfs.resolve(path)
        {
            return Err(ImageError::invalid(
                Code::HostileLayer,
                &what,
                message,
                "fix the links so that each ends at a file or folder",
            ));
        }
    }
    let unreadable = unreadable
        .into_iter()
        .map(|(index, reason)| (listed[index].path.clone(), reason))
        .collect();
    Ok((
        Folder {
            rootfs,
            notes,
            unreadable,
        },
        results,
    ))
}

/// Where a folder's file is: entry `index` of the listing, as if of the one layer an import makes.
fn content_ref(index: usize) -> ContentRef {
    ContentRef {
        layer: 0,
        ordinal: index as u64,
    }
}

pub(super) fn unreadable(what: &str, path: &Path, e: &io::Error) -> ImageError {
    ImageError::invalid(
        Code::BadSource,
        what,
        format!("{}: {e}", path.display()),
        "sealkit reads the folder as it is: make every entry readable by this user (or run as one who \
         can read them), and leave the folder unchanged while it is read",
    )
}

/// Every entry below `root`, in path order, with its metadata; symlinks are not followed. Sockets
/// are left out, with a note.
pub(super) fn list(root: &Path, what: &str) -> Result<(Vec<Listed>, Vec<String>)> {
    // The folder named is followed if it is a link; links inside it never are.
    let meta = fs::metadata(root).map_err(|e| unreadable(what, root, &e))?;
    if !meta.is_dir() {
        return Err(ImageError::invalid(
            Code::BadSource,
            what,
            "not a folder",
            "dir: takes a folder holding a root filesystem",
        ));
    }
    let mut listed = Vec::new();
    let mut notes = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let full = root.join(&rel);
        for child in fs::read_dir(&full).map_err(|e| unreadable(what, &full, &e))? {
            let child = child.map_err(|e| unreadable(what, &full, &e))?;
            // lstat, relative to the folder's descriptor: a link is seen as a link.
            let meta = child.metadata().map_err(|e| unreadable(what, &child.path(), &e))?;
            let path = rel.join(child.file_name());
            if meta.file_type().is_socket() {
                notes.push(format!(
                    "{what}: {}: a socket, which no image can hold: left out",
                    path.display()
                ));
                continue;
            }
            if meta.is_dir() {
                stack.push(path.clone());
            }
            listed.push(Listed { path, meta });
        }
    }
    listed.sort_by(|a, b| a.path.cmp(&b.path));
    notes.sort();
    Ok((listed, notes))
}

/// Reads one regular file: hashes it, shows it to `tap`, and reads its file capability. The file
/// must still be the one listed, and as long.
fn read_file(
    root: &Path,
    listed: &Listed,
    at: ContentRef,
    tap: &mut dyn Tap,
    buf: &mut [u8],
) -> io::Result<(Digest, Option<Vec<u8>>)> {
    let mut file = open_listed(root, listed)?;
    let size = listed.meta.len();
    let capability = capability(&file)?;
    let watching = tap.begin(&listed.path, size, at);
    let mut hasher = HashingWriter::new(io::sink());
    loop {
        let n = fill(&mut file, buf)?;
        hasher.write_all(&buf[..n])?;
        if watching && n > 0 {
            tap.chunk(&buf[..n]);
        }
        if n < buf.len() {
            break;
        }
    }
    if watching {
        tap.end();
    }
    let (_, digest, read) = hasher.finish();
    if read != size {
        return Err(changed());
    }
    Ok((digest, capability))
}

/// Opens a listed regular file, which must still be the one listed, and as long.
pub(super) fn open_listed(root: &Path, listed: &Listed) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    // Never through a link that replaced the file since it was listed, and never blocking on a
    // FIFO swapped in since (O_NONBLOCK changes nothing for a regular file).
    let fd = rustix::fs::open(
        root.join(&listed.path),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    let file = File::from(fd);
    let meta = file.metadata()?;
    let was = &listed.meta;
    if !meta.is_file() || meta.ino() != was.ino() || meta.dev() != was.dev() || meta.len() != was.len() {
        return Err(changed());
    }
    Ok(file)
}

fn changed() -> io::Error {
    io::Error::other(Changed)
}

/// Reads until `buf` is full or the file ends: a short count means the end, and a file's first
/// chunk holds its first bytes whole (the taps look for magic numbers there).
fn fill(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(super) fn capability(file: &File) -> io::Result<Option<Vec<u8>>> {
    use rustix::io::Errno;
    // A capability is 24 bytes at most (VFS_CAP_REVISION_3); anything else is kept as found.
    let mut value = [0u8; 256];
    match rustix::fs::fgetxattr(file, CAPABILITY, &mut value[..]) {
        Ok(n) => Ok(Some(value[..n].to_vec())),
        Err(Errno::NODATA | Errno::NOTSUP) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The view's entry for a listed path that is not a hard link to an earlier one; an unreadable
/// regular file has no content.
fn entry_of(
    root: &Path,
    l: &Listed,
    index: usize,
    content: Option<Read1>,
    not_read: bool,
    what: &str,
) -> Result<Entry> {
    let m = &l.meta;
    let ft = m.file_type();
    let mut entry = Entry {
        kind: Kind::File,
        mode: m.mode() & 0o7777,
        uid: u64::from(m.uid()),
        gid: u64::from(m.gid()),
        size: 0,
        mtime: u64::try_from(m.mtime()).unwrap_or(0),
        sha256: None,
        xattrs: Default::default(),
        content: None,
        layer: 0,
        hardlink_of: None,
    };
    if ft.is_file() && not_read {
        entry.size = m.len();
    } else if ft.is_file() {
        let Some(read) = content else {
            return Err(ImageError::invalid(
                Code::BadSource,
                what,
                format!("{}: was not read", l.path.display()),
                "report this as a sealkit bug",
            ));
        };
        entry.size = m.len();
        entry.sha256 = Some(read.sha256);
        entry.content = Some(content_ref(index));
        if let Some(value) = read.capability {
            std::sync::Arc::make_mut(&mut entry.xattrs).insert(CAPABILITY.to_owned(), value);
        }
    } else if ft.is_dir() {
        entry.kind = Kind::Dir;
    } else if ft.is_symlink() {
        let full = root.join(&l.path);
        let target = fs::read_link(&full).map_err(|e| unreadable(what, &full, &e))?;
        let parent = l.path.parent().unwrap_or(Path::new(""));
        if !target.is_absolute() && escapes(parent, &target) {
            return Err(ImageError::invalid(
                Code::HostileLayer,
                what,
                format!(
                    "{}: symlink target {:?} climbs out of the root",
                    l.path.display(),
                    target.display()
                ),
                "make the link absolute (it is read inside the image) or keep it inside the folder",
            ));
        }
        entry.kind = Kind::Symlink {
            target: target.to_string_lossy().into_owned(),
        };
    } else if ft.is_char_device() || ft.is_block_device() {
        let (major, minor) = device_numbers(m.rdev());
        entry.kind = if ft.is_char_device() {
            Kind::Char { major, minor }
        } else {
            Kind::Block { major, minor }
        };
    } else if ft.is_fifo() {
        entry.kind = Kind::Fifo;
    }
    Ok(entry)
}

/// glibc's `major()` and `minor()` of a device number.
pub(super) fn device_numbers(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// What a folder is, as a manifest digest is what an image is: the digest of its view's listing
/// (each entry's path, type, mode, owner, content digest or target, and file capability, in path
/// order; not the times, which a copy changes).
pub fn listing_digest(rootfs: &Rootfs) -> Digest {
    let mut h = HashingWriter::new(io::sink());
    for (path, e) in &rootfs.entries {
        // A sink never fails.
        let _ = h.write_all(path.as_os_str().as_bytes());
        let _ = h.write_all(b"\0");
        let _ = serde_json::to_writer(&mut h, &(&e.kind, e.mode, e.uid, e.gid, &e.sha256, &e.xattrs));
        let _ = h.write_all(b"\n");
    }
    h.finish().1
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::process::Command;

    use super::*;
    use crate::image::rootfs::NoTap;
    use crate::image::{ImageRef, Platform, Store, resolve};

    /// Records what it was shown, per file.
    #[derive(Default)]
    struct Seen {
        current: Option<(ContentRef, Vec<u8>)>,
        files: BTreeMap<ContentRef, (PathBuf, Vec<u8>)>,
        path: PathBuf,
    }

    impl Tap for Seen {
        fn begin(&mut self, path: &Path, _: u64, at: ContentRef) -> bool {
            self.path = path.to_path_buf();
            self.current = Some((at, Vec::new()));
            true
        }
        fn chunk(&mut self, bytes: &[u8]) {
            if let Some((_, b)) = self.current.as_mut() {
                b.extend_from_slice(bytes);
            }
        }
        fn end(&mut self) {
            if let Some((at, b)) = self.current.take() {
                self.files.insert(at, (self.path.clone(), b));
            }
        }
    }

    fn view(root: &Path) -> Result<Folder> {
        read(root, || NoTap, |_| ()).map(|(f, _)| f)
    }

    /// A tree with every kind of entry a folder can hold unprivileged.
    fn tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        fs::create_dir_all(r.join("usr/bin")).unwrap();
        fs::create_dir_all(r.join("etc/empty")).unwrap();
        fs::write(r.join("usr/bin/tool"), b"\x7fELF not really").unwrap();
        fs::set_permissions(r.join("usr/bin/tool"), fs::Permissions::from_mode(0o4755)).unwrap();
        // Larger than one read, so that the chunks are joined.
        let big: Vec<u8> = (0..READ_BUFFER * 2 + 7).map(|i| (i % 251) as u8).collect();
        fs::write(r.join("usr/big"), &big).unwrap();
        fs::write(r.join("etc/empty-file"), b"").unwrap();
        fs::hard_link(r.join("usr/bin/tool"), r.join("usr/bin/tool-again")).unwrap();
        symlink("tool", r.join("usr/bin/link")).unwrap();
        symlink("/etc/missing", r.join("etc/dangling")).unwrap();
        symlink("../usr/bin", r.join("etc/bin")).unwrap();
        assert!(
            Command::new("mkfifo")
                .arg(r.join("etc/fifo"))
                .status()
                .unwrap()
                .success()
        );
        tmp
    }

    /// The view of a folder is the one importing it as a layer and flattening that gives.
    #[test]
    fn the_view_is_what_an_import_gives() {
        let tree = tree();
        let ours = view(tree.path()).unwrap().rootfs;
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let reference = ImageRef::Dir {
            path: tree.path().to_path_buf(),
        };
        let image = resolve(&store, &reference, &Platform::default(), Path::new("/")).unwrap();
        let imported = Rootfs::flatten(&store, &image).unwrap();
        let facts = |r: &Rootfs| -> Vec<_> {
            r.entries
                .iter()
                .map(|(p, e)| {
                    (
                        p.clone(),
                        e.kind.clone(),
                        e.mode,
                        e.uid,
                        e.gid,
                        e.size,
                        e.sha256.clone(),
                        e.hardlink_of.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(facts(&ours), facts(&imported));
        assert_eq!(ours.entries[Path::new("etc/fifo")].kind, Kind::Fifo);
        assert_eq!(
            ours.entries[Path::new("usr/bin/tool-again")].hardlink_of.as_deref(),
            Some(Path::new("usr/bin/tool"))
        );
    }

    /// Every regular file is shown once, whole, to one tap, whatever the number of threads, and
    /// the view does not depend on it either.
    #[test]
    fn the_same_whatever_the_threads() {
        let tree = tree();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (folder, seen) = pool.install(|| read(tree.path(), Seen::default, |s| s.files)).unwrap();
            assert_eq!(seen.len(), threads);
            let mut all = BTreeMap::new();
            for files in seen {
                for (at, file) in files {
                    assert!(all.insert(at, file).is_none(), "a file shown twice");
                }
            }
            (folder.rootfs.entries, all)
        };
        let (one, shown) = run(1);
        assert_eq!(run(3), (one.clone(), shown.clone()));
        // Hard links are read once, through the first path.
        let regular: Vec<&PathBuf> = one
            .iter()
            .filter(|(_, e)| e.kind == Kind::File && e.hardlink_of.is_none())
            .map(|(p, _)| p)
            .collect();
        assert_eq!(shown.values().map(|(p, _)| p).collect::<Vec<_>>(), regular);
        for (at, (path, bytes)) in &shown {
            assert_eq!(one[path].content, Some(*at));
            assert_eq!(Some(Digest::of(bytes)), one[path].sha256);
            assert_eq!(fs::read(tree.path().join(path)).unwrap(), *bytes);
        }
    }

    #[test]
    fn sockets_are_left_out_with_a_note() {
        let tree = tree();
        let _listener = std::os::unix::net::UnixListener::bind(tree.path().join("etc/sock")).unwrap();
        let folder = view(tree.path()).unwrap();
        assert!(!folder.rootfs.entries.contains_key(Path::new("etc/sock")));
        assert_eq!(
            folder.notes,
            [format!(
                "dir:{}: etc/sock: a socket, which no image can hold: left out",
                tree.path().display()
            )]
        );
    }

    /// What a layer would be refused for, a folder is too, naming the entry.
    #[test]
    fn links_out_of_the_root_and_loops_are_refused() {
        let tree = tree();
        symlink("../../../etc/passwd", tree.path().join("usr/bin/out")).unwrap();
        let e = view(tree.path()).err().unwrap();
        assert_eq!(e.code(), Code::HostileLayer.as_str());
        assert!(
            e.to_string()
                .contains("usr/bin/out: symlink target \"../../../etc/passwd\" climbs out"),
            "{e}"
        );

        let looped = super::tests::tree();
        symlink("b", looped.path().join("a")).unwrap();
        symlink("a", looped.path().join("b")).unwrap();
        let e = view(looped.path()).err().unwrap();
        assert_eq!(e.code(), Code::HostileLayer.as_str());
        assert!(e.to_string().contains("a: too many levels of symbolic links"), "{e}");
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let tree = tree();
        let e = view(&tree.path().join("missing")).err().unwrap();
        assert_eq!(e.code(), Code::BadSource.as_str());
        assert!(
            e.to_string()
                .contains(&tree.path().join("missing").display().to_string()),
            "{e}"
        );
        let e = view(&tree.path().join("usr/big")).err().unwrap();
        assert!(e.to_string().contains("not a folder"), "{e}");

        let locked = tree.path().join("usr/bin/tool");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&locked).is_ok() {
            return; // root reads whatever the mode says
        }
        // A file this user may not read is in the view, without content, and listed.
        let folder = view(tree.path()).unwrap();
        assert_eq!(
            folder.unreadable,
            [(
                PathBuf::from("usr/bin/tool"),
                "cannot be read: Permission denied (os error 13)".to_owned()
            )]
        );
        for path in ["usr/bin/tool", "usr/bin/tool-again"] {
            let entry = &folder.rootfs.entries[Path::new(path)];
            assert_eq!(
                (entry.kind.clone(), entry.content, entry.sha256.clone()),
                (Kind::File, None, None)
            );
        }
    }

    #[test]
    fn file_capabilities_are_kept() {
        let tree = tree();
        let tool = tree.path().join("usr/bin/tool");
        // v2, effective, CAP_NET_RAW: as `setcap cap_net_raw+ep` writes it.
        let value = [1u8, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        if rustix::fs::setxattr(&tool, CAPABILITY, &value, rustix::fs::XattrFlags::empty()).is_err() {
            return; // setting one takes CAP_SETFCAP
        }
        let view = view(tree.path()).unwrap().rootfs;
        for path in ["usr/bin/tool", "usr/bin/tool-again"] {
            assert_eq!(view.entries[Path::new(path)].xattrs[CAPABILITY], value);
        }
    }

    #[test]
    fn device_numbers_as_glibc_splits_them() {
        // makedev(8, 1) and makedev(0x1234, 0x56789), whose high bits sit above the low ones.
        assert_eq!(device_numbers(0x801), (8, 1));
        assert_eq!(device_numbers(0x0000_1000_5672_3489), (0x1234, 0x56789));
    }
}
