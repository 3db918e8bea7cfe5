//! Reads a layer's tar stream member by member, as Go's archive/tar reads it (containerd and
//! Docker apply layers with it), within Linux's limits on names and attributes, and strictly
//! where readers could disagree about what a layer holds.
//!
//! The formats Go reads are read: V7, ustar (with its name prefix), GNU (long names and links,
//! base-256 numbers) and PAX (`x` headers; `g` headers are read and, as containerd does,
//! ignored). Refused, before anything is allocated for them: PAX headers over [`MAX_PAX_BYTES`]
//! and names, link targets or attributes over Linux's limits. Refused as errors rather than
//! ignored: malformed numbers and PAX records, a NUL inside a name or link target (cpio, GNU tar
//! and the kernel would read a shorter name than the one inspected), a PAX path beside a GNU long
//! name (readers pick different ones), a repeated PAX key or extension header, empty names,
//! sparse files and entry types that are not files, folders, links, devices or fifos.
//!
//! A layer may end right after its last member's data, as umoci up to 0.4.7 writes them: without
//! the padding to a whole block and without the two zero blocks that close an archive. Go reads
//! those to a clean end, and so does this reader, saying so in [`Ending`]. Every other early end
//! (inside a header, an entry's data, its padding, or an extension header) is an error naming the
//! entry: the stream ends cleanly only where a member is complete.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::error::Code;

const BLOCK: usize = 512;
/// Longest entry name and link target (Linux's PATH_MAX).
pub const MAX_NAME_BYTES: usize = 4096;
/// Longest name of one path component (Linux's NAME_MAX).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// Largest PAX extended header, as Go's archive/tar allows.
pub const MAX_PAX_BYTES: u64 = 1 << 20;
/// Largest extended attribute value (Linux's XATTR_SIZE_MAX).
pub const MAX_XATTR_VALUE_BYTES: usize = 64 << 10;
/// Longest extended attribute name, namespace included (Linux's XATTR_NAME_MAX).
pub const MAX_XATTR_NAME_BYTES: usize = 255;

pub(crate) const HOSTILE: &str = "the layer is hostile: rebuild the image from trusted sources";
pub(crate) const CORRUPT: &str = "the layer is corrupt or truncated: import or pull the image again, or rebuild it";
pub(crate) const TOO_LARGE: &str =
    "sealkit reads layers within Linux's limits on names and attributes (docs/limits.md): rebuild the image without it";
const UNSUPPORTED: &str = "layers hold files, folders, links, devices and fifos only: rebuild the layer without it";

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    Regular,
    Dir,
    Symlink,
    HardLink,
    Char,
    Block,
    Fifo,
}

/// One entry of a layer, with its extension headers applied.
#[derive(Debug, Clone)]
pub struct Member {
    /// Counts the members of the layer from 0 (extension headers are not members).
    pub ordinal: u64,
    /// The name as written (not yet cleaned of `./`).
    pub name: PathBuf,
    /// The target of a symlink or hard link, as written.
    pub link: Option<PathBuf>,
    pub kind: MemberKind,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch; a time before it is read as the epoch.
    pub mtime: u64,
    /// Bytes of data (regular files only; other kinds have none, whatever the header says).
    pub size: u64,
    pub major: u32,
    pub minor: u32,
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

/// How the stream ended: what a well-formed archive has and this one lacked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ending {
    /// The last member's data is not padded to a whole block.
    pub padding_missing: bool,
    /// The two zero blocks that close an archive are missing (or only one is there).
    pub footer_missing: bool,
}

/// Why a stream cannot be read. `entry` names the entry concerned, empty when none is known.
#[derive(Debug)]
pub struct TarError {
    pub code: Code,
    pub entry: PathBuf,
    pub message: String,
    pub hint: &'static str,
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Carried inside the `io::Error` of a read that met the stream's end inside a member's data.
impl std::error::Error for TarError {}

impl TarError {
    fn new(code: Code, entry: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        let hint = match code {
            Code::HostileLayer => HOSTILE,
            Code::LimitExceeded => TOO_LARGE,
            Code::Unsupported => UNSUPPORTED,
            _ => CORRUPT,
        };
        TarError {
            code,
            entry: entry.into(),
            message: message.into(),
            hint,
        }
    }

    fn corrupt(entry: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::new(Code::CorruptLayer, entry, message)
    }
}

/// The error of a read of a member's data: the stream ended inside it, or could not be read.
pub(crate) fn data_error(e: io::Error, entry: impl Into<PathBuf>) -> TarError {
    let entry = entry.into();
    if e.get_ref().is_some_and(|inner| inner.is::<TarError>()) {
        return match e.into_inner().map(|inner| inner.downcast::<TarError>()) {
            Some(Ok(truncated)) => *truncated,
            _ => TarError::corrupt(entry, "the layer ends inside this entry's data"),
        };
    }
    stream_error(&e, entry)
}

/// The error of reading the decompressed stream itself (bad compression, a bomb), met while
/// reading `entry`.
pub(crate) fn stream_error(e: &io::Error, entry: impl Into<PathBuf>) -> TarError {
    match e.kind() {
        // A bomb (see `rootfs::Bounded`).
        io::ErrorKind::FileTooLarge => TarError {
            code: Code::LimitExceeded,
            entry: entry.into(),
            message: e.to_string(),
            hint: "real layers compress far less (docs/limits.md): rebuild the image from trusted sources",
        },
        _ => TarError::corrupt(entry, format!("the layer's stream cannot be read: {e}")),
    }
}

/// Extension headers read so far for the member that follows them.
#[derive(Default)]
struct Pending {
    pax: Option<BTreeMap<String, Vec<u8>>>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.pax.is_none() && self.long_name.is_none() && self.long_link.is_none()
    }

    /// The name the extensions give the member they describe, for messages.
    fn name(&self) -> Option<PathBuf> {
        let pax_path = self.pax.as_ref().and_then(|p| p.get("path")).map(Vec::as_slice);
        self.long_name.as_deref().or(pax_path).map(path_of)
    }
}

/// A layer's members, read in order; reading the stream itself reads the current member's data.
pub struct TarStream<R> {
    inner: R,
    /// Bytes consumed from `inner`.
    offset: u64,
    /// The current member: its name, size, and its data not yet read.
    current: PathBuf,
    size: u64,
    left: u64,
    ordinal: u64,
    ending: Option<Ending>,
}

impl<R: Read> TarStream<R> {
    pub fn new(inner: R) -> Self {
        TarStream {
            inner,
            offset: 0,
            current: PathBuf::new(),
            size: 0,
            left: 0,
            ordinal: 0,
            ending: None,
        }
    }

    /// Bytes read from the archive so far: right after [`TarStream::next_member`], where the
    /// member's data starts (the build finds a module's bytes in its kernel.tar so).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How the archive ended, once [`TarStream::next_member`] has returned `None`.
    pub fn ending(&self) -> Option<Ending> {
        self.ending
    }

    /// Reads into `buf` until it is full or the stream ends; returns how much was read.
    fn fill(&mut self, buf: &mut [u8], entry: &Path) -> Result<usize, TarError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(stream_error(&e, entry)),
            }
        }
        self.offset += filled as u64;
        Ok(filled)
    }

    /// Skips `n` bytes; returns how many there were before the stream ended.
    fn skip(&mut self, mut n: u64, entry: &Path) -> Result<u64, TarError> {
        let mut buf = [0u8; 8192];
        let mut skipped = 0;
        while n > 0 {
            let want = n.min(buf.len() as u64) as usize;
            let got = self.fill(&mut buf[..want], entry)?;
            skipped += got as u64;
            n -= got as u64;
            if got < want {
                break;
            }
        }
        Ok(skipped)
    }

    /// The next member, after the rest of the current one; `None` at the end of the archive.
    pub fn next_member(&mut self) -> Result<Option<Member>, TarError> {
        if self.ending.is_some() {
            return Ok(None);
        }
        let current = std::mem::take(&mut self.current);
        let (size, left) = (self.size, self.left);
        self.left = 0;
        let skipped = self.skip(left, &current)?;
        if skipped < left {
            // What is missing is what the skip did not find, not all it was asked to skip.
            return Err(truncated_data(current, size, left - skipped));
        }
        if self.ordinal > 0 {
            let pad = padding(size);
            match self.skip(pad, &current)? {
                0 if pad > 0 => {
                    // Nothing after the last member's data, not even its padding: umoci ≤ 0.4.7.
                    return self.end(Ending {
                        padding_missing: true,
                        footer_missing: true,
                    });
                }
                n if n < pad => {
                    return Err(TarError::corrupt(
                        current,
                        format!("the layer ends inside the padding after this entry's data ({n} of its {pad} bytes)"),
                    ));
                }
                _ => {}
            }
        }
        let mut pending = Pending::default();
        loop {
            let at = self.offset;
            let mut header = [0u8; BLOCK];
            let got = self.fill(&mut header, &pending.name().unwrap_or_default())?;
            if got == 0 {
                if !pending.is_empty() {
                    return Err(TarError::corrupt(
                        pending.name().unwrap_or_default(),
                        "the layer ends after extension headers, without the entry they describe",
                    ));
                }
                return self.end(Ending {
                    padding_missing: false,
                    footer_missing: true,
                });
            }
            if got < BLOCK {
                return Err(self.truncated_header(&header[..got], &pending, &current));
            }
            if header.iter().all(|&b| b == 0) {
                if !pending.is_empty() {
                    return Err(TarError::corrupt(
                        pending.name().unwrap_or_default(),
                        "the archive ends after extension headers, without the entry they describe",
                    ));
                }
                return self.end_after_zero_block();
            }
            let fields = Header::parse(&header, at)?;
            match fields.typeflag {
                b'x' | b'g' => {
                    let records = self.read_pax(&fields, &pending)?;
                    if fields.typeflag == b'g' {
                        // Go hands global headers to its caller, and containerd ignores them.
                        if !pending.is_empty() {
                            return Err(TarError::corrupt(
                                pending.name().unwrap_or_default(),
                                "a global PAX header comes between an entry and its extension headers",
                            ));
                        }
                        continue;
                    }
                    if pending.pax.replace(records).is_some() {
                        return Err(TarError::corrupt(
                            pending.name().unwrap_or_default(),
                            "two PAX headers for one entry",
                        ));
                    }
                }
                b'L' | b'K' => {
                    let long = self.read_long_name(&fields, &pending)?;
                    let slot = if fields.typeflag == b'L' {
                        &mut pending.long_name
                    } else {
                        &mut pending.long_link
                    };
                    if slot.replace(long).is_some() {
                        return Err(TarError::corrupt(
                            pending.name().unwrap_or_default(),
                            "two GNU long names (or links) for one entry",
                        ));
                    }
                }
                _ => {
                    let member = self.member(fields, pending)?;
                    self.current = member.name.clone();
                    self.size = member.size;
                    self.left = member.size;
                    self.ordinal += 1;
                    return Ok(Some(member));
                }
            }
        }
    }

    fn end(&mut self, ending: Ending) -> Result<Option<Member>, TarError> {
        self.ending = Some(ending);
        Ok(None)
    }

    /// After one zero block: a second one (or nothing, as Go accepts) ends the archive.
    fn end_after_zero_block(&mut self) -> Result<Option<Member>, TarError> {
        let at = self.offset;
        let mut block = [0u8; BLOCK];
        match self.fill(&mut block, Path::new(""))? {
            0 => self.end(Ending {
                padding_missing: false,
                footer_missing: true,
            }),
            BLOCK if block.iter().all(|&b| b == 0) => self.end(Ending::default()),
            BLOCK => Err(TarError::corrupt(
                "",
                format!("a header at byte {at} follows the block that ends the archive"),
            )),
            n => Err(TarError::corrupt(
                "",
                format!("the layer ends inside its closing blocks ({n} of the second block's 512 bytes)"),
            )),
        }
    }

    /// The error for a stream that stops inside a header: the entry is named by its extension
    /// headers, or by the name field when that much of the header is there.
    fn truncated_header(&self, partial: &[u8], pending: &Pending, previous: &Path) -> TarError {
        let name = pending
            .name()
            .or_else(|| (partial.len() >= 100).then(|| path_of(field(&partial[..100]))))
            .filter(|n| !n.as_os_str().is_empty());
        let got = partial.len();
        match name {
            Some(name) => TarError::corrupt(
                name,
                format!("the layer ends inside this entry's header ({got} of its 512 bytes)"),
            ),
            None if previous.as_os_str().is_empty() => TarError::corrupt(
                "",
                format!("the layer ends inside its first header ({got} of its 512 bytes)"),
            ),
            None => TarError::corrupt(
                "",
                format!(
                    "the layer ends inside the header of the entry after {} ({got} of its 512 bytes)",
                    shown(previous)
                ),
            ),
        }
    }

    /// Reads the data of an extension header whose size is known to be within bounds, and its
    /// padding (another header follows).
    fn read_extension(&mut self, size: u64, what: &str, pending: &Pending) -> Result<Vec<u8>, TarError> {
        let name = pending.name().unwrap_or_default();
        let mut data = vec![0u8; size as usize];
        let got = self.fill(&mut data, &name)?;
        let pad = padding(size);
        if got < data.len() || self.skip(pad, &name)? < pad {
            return Err(TarError::corrupt(name, format!("the layer ends inside {what}")));
        }
        Ok(data)
    }

    fn read_pax(&mut self, header: &Header, pending: &Pending) -> Result<BTreeMap<String, Vec<u8>>, TarError> {
        let size = header.extension_size(pending)?;
        if size > MAX_PAX_BYTES {
            return Err(TarError::new(
                Code::LimitExceeded,
                pending.name().unwrap_or_default(),
                format!(
                    "a PAX header of {size} bytes at byte {} (the most a layer may use is {MAX_PAX_BYTES})",
                    header.at
                ),
            ));
        }
        let data = self.read_extension(size, "a PAX header", pending)?;
        parse_pax(&data).map_err(|message| TarError::corrupt(pending.name().unwrap_or_default(), message))
    }

    fn read_long_name(&mut self, header: &Header, pending: &Pending) -> Result<Vec<u8>, TarError> {
        let what = if header.typeflag == b'L' {
            "GNU long name"
        } else {
            "GNU long link"
        };
        let size = header.extension_size(pending)?;
        // The name and its terminating NUL.
        if size > MAX_NAME_BYTES as u64 + 1 {
            return Err(TarError::new(
                Code::LimitExceeded,
                pending.name().unwrap_or_default(),
                format!(
                    "a {what} of {size} bytes at byte {} (the longest a name may be is {MAX_NAME_BYTES})",
                    header.at
                ),
            ));
        }
        let mut data = self.read_extension(size, &format!("a {what}"), pending)?;
        while data.last() == Some(&0) {
            data.pop();
        }
        if data.is_empty() {
            return Err(TarError::corrupt(
                pending.name().unwrap_or_default(),
                format!("an empty {what} at byte {}", header.at),
            ));
        }
        Ok(data)
    }

    /// The member a header describes, with its extension headers applied.
    fn member(&mut self, header: Header, pending: Pending) -> Result<Member, TarError> {
        let pax = pending.pax.unwrap_or_default();
        let name = match (pending.long_name, pax.get("path")) {
            (Some(long), Some(_)) => {
                return Err(TarError::new(
                    Code::HostileLayer,
                    path_of(&long),
                    "the entry has both a GNU long name and a PAX path: tools read different names",
                ));
            }
            (Some(long), None) => long,
            (None, Some(path)) => path.clone(),
            (None, None) => header.name.clone(),
        };
        let entry = path_of(&name);
        check_name(&name, &entry, "name")?;
        if name.is_empty() {
            let message = if pax.contains_key("path") {
                format!(
                    "the entry whose header is at byte {} has an empty PAX path: it would have no name",
                    header.at
                )
            } else {
                format!("the entry whose header is at byte {} has no name", header.at)
            };
            return Err(TarError::corrupt("", message));
        }
        let link = match (pending.long_link, pax.get("linkpath")) {
            (Some(_), Some(_)) => {
                return Err(TarError::new(
                    Code::HostileLayer,
                    entry,
                    "the entry has both a GNU long link and a PAX linkpath: tools read different targets",
                ));
            }
            (Some(long), None) => Some(long),
            (None, Some(path)) if path.is_empty() => {
                return Err(TarError::corrupt(entry, "an empty PAX linkpath"));
            }
            (None, Some(path)) => Some(path.clone()),
            (None, None) => Some(header.link.clone()).filter(|l| !l.is_empty()),
        };
        if let Some(link) = &link {
            check_name(link, &entry, "link target")?;
        }
        let number = |key: &str, from_header: Option<i64>, field: &str| -> Result<Option<i64>, TarError> {
            match pax.get(key) {
                Some(value) => pax_integer(value).map(Some).ok_or_else(|| {
                    TarError::corrupt(
                        &entry,
                        format!(
                            "its PAX {key} record is malformed: {:?}",
                            String::from_utf8_lossy(value)
                        ),
                    )
                }),
                None => from_header.map(Some).ok_or_else(|| {
                    TarError::corrupt(
                        &entry,
                        format!("its header's {field} field is malformed (header at byte {})", header.at),
                    )
                }),
            }
        };
        let non_negative = |value: Option<i64>, what: &str| -> Result<u64, TarError> {
            let value = value.unwrap_or(0);
            u64::try_from(value).map_err(|_| TarError::corrupt(&entry, format!("a negative {what}: {value}")))
        };
        let size = non_negative(number("size", header.size_field, "size")?, "size")?;
        let uid = non_negative(number("uid", header.uid, "uid")?, "uid")?;
        let gid = non_negative(number("gid", header.gid, "gid")?, "gid")?;
        let mode = header.mode.and_then(|m| u32::try_from(m).ok()).ok_or_else(|| {
            TarError::corrupt(
                &entry,
                format!("its header's mode field is malformed (header at byte {})", header.at),
            )
        })? & 0o7777;
        for key in ["atime", "ctime"] {
            if let Some(value) = pax.get(key)
                && pax_seconds(value).is_none()
            {
                return Err(TarError::corrupt(
                    &entry,
                    format!(
                        "its PAX {key} record is malformed: {:?}",
                        String::from_utf8_lossy(value)
                    ),
                ));
            }
        }
        let mtime = match pax.get("mtime") {
            Some(value) => pax_seconds(value).ok_or_else(|| {
                TarError::corrupt(
                    &entry,
                    format!(
                        "its PAX mtime record is malformed: {:?}",
                        String::from_utf8_lossy(value)
                    ),
                )
            })?,
            None => header.mtime.ok_or_else(|| {
                TarError::corrupt(
                    &entry,
                    format!("its header's mtime field is malformed (header at byte {})", header.at),
                )
            })?,
        };
        let mut xattrs = BTreeMap::new();
        for (key, value) in &pax {
            if key.starts_with("GNU.sparse.") {
                return Err(sparse(&entry));
            }
            if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                if name.is_empty() || name.len() > MAX_XATTR_NAME_BYTES {
                    return Err(TarError::new(
                        Code::LimitExceeded,
                        &entry,
                        format!(
                            "an extended attribute name of {} bytes (Linux allows 1 to {MAX_XATTR_NAME_BYTES})",
                            name.len()
                        ),
                    ));
                }
                if value.len() > MAX_XATTR_VALUE_BYTES {
                    return Err(TarError::new(
                        Code::LimitExceeded,
                        &entry,
                        format!(
                            "the extended attribute {name} holds {} bytes (Linux allows {MAX_XATTR_VALUE_BYTES})",
                            value.len()
                        ),
                    ));
                }
                xattrs.insert(name.to_owned(), value.clone());
            }
        }
        let kind = match header.typeflag {
            b'0' | b'7' => MemberKind::Regular,
            // Legacy archives mark folders with a trailing slash only.
            0 if name.ends_with(b"/") => MemberKind::Dir,
            0 => MemberKind::Regular,
            b'1' => MemberKind::HardLink,
            b'2' => MemberKind::Symlink,
            b'3' => MemberKind::Char,
            b'4' => MemberKind::Block,
            b'5' => MemberKind::Dir,
            b'6' => MemberKind::Fifo,
            b'S' => return Err(sparse(&entry)),
            other => return Err(TarError::new(Code::Unsupported, &entry, unsupported_type(other))),
        };
        let (major, minor) = if matches!(kind, MemberKind::Char | MemberKind::Block) {
            let device = |value: Option<i64>, what: &str| {
                value.and_then(|v| u32::try_from(v).ok()).ok_or_else(|| {
                    TarError::corrupt(
                        &entry,
                        format!("its header's {what} field is malformed (header at byte {})", header.at),
                    )
                })
            };
            (device(header.major, "devmajor")?, device(header.minor, "devminor")?)
        } else {
            (0, 0)
        };
        Ok(Member {
            ordinal: self.ordinal,
            name: entry.clone(),
            link: link.as_deref().map(path_of),
            kind,
            mode,
            uid,
            gid,
            mtime,
            // As Go's reader: only regular files have data, whatever the header's size says.
            size: if kind == MemberKind::Regular { size } else { 0 },
            major,
            minor,
            xattrs,
        })
    }
}

/// Reading the stream reads the current member's data; it ends where the data does.
impl<R: Read> Read for TarStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = loop {
            match self.inner.read(&mut buf[..want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        if n == 0 {
            let truncated = truncated_data(self.current.clone(), self.size, self.left);
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, truncated));
        }
        self.left -= n as u64;
        self.offset += n as u64;
        Ok(n)
    }
}

fn truncated_data(entry: PathBuf, size: u64, left: u64) -> TarError {
    TarError::corrupt(
        entry,
        format!(
            "the layer ends inside this entry's data ({} of its {size} bytes)",
            size - left
        ),
    )
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn sparse(entry: &Path) -> TarError {
    TarError {
        code: Code::Unsupported,
        entry: entry.to_path_buf(),
        message: "a GNU sparse file: sealkit does not read sparse entries".into(),
        hint: "rebuild the layer without sparse files (GNU tar: without --sparse)",
    }
}

fn unsupported_type(typeflag: u8) -> String {
    let what = match typeflag {
        b'D' => "a GNU dump directory",
        b'M' => "a GNU multi-volume continuation",
        b'N' => "an old GNU long-names entry",
        b'V' => "a GNU volume label",
        b'A'..=b'Z' => "a vendor-specific entry",
        _ => "an unknown kind of entry",
    };
    let shown = if typeflag.is_ascii_graphic() || typeflag == b' ' {
        format!("'{}' ", typeflag as char)
    } else {
        String::new()
    };
    format!("unsupported tar entry type {shown}(byte 0x{typeflag:02x}): {what}")
}

/// NUL, length and component checks of a name or link target.
fn check_name(name: &[u8], entry: &Path, what: &str) -> Result<(), TarError> {
    if name.contains(&0) {
        return Err(TarError::new(
            Code::HostileLayer,
            entry,
            format!("its {what} holds a NUL byte: tools that stop at it would read another name"),
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(TarError::new(
            Code::LimitExceeded,
            entry,
            format!(
                "its {what} is {} bytes long (Linux allows {MAX_NAME_BYTES})",
                name.len()
            ),
        ));
    }
    if let Some(long) = name.split(|&b| b == b'/').find(|c| c.len() > MAX_COMPONENT_BYTES) {
        return Err(TarError::new(
            Code::LimitExceeded,
            entry,
            format!(
                "its {what} has a component of {} bytes (Linux allows {MAX_COMPONENT_BYTES})",
                long.len()
            ),
        ));
    }
    Ok(())
}

/// The header fields of one block, numbers left unparsed where malformed (`None`) until the
/// extension headers say whether they are needed.
struct Header {
    at: u64,
    typeflag: u8,
    name: Vec<u8>,
    link: Vec<u8>,
    size_field: Option<i64>,
    mode: Option<i64>,
    uid: Option<i64>,
    gid: Option<i64>,
    mtime: Option<u64>,
    major: Option<i64>,
    minor: Option<i64>,
}

impl Header {
    /// The size of an extension header's data.
    fn extension_size(&self, pending: &Pending) -> Result<u64, TarError> {
        self.size_field.and_then(|s| u64::try_from(s).ok()).ok_or_else(|| {
            TarError::corrupt(
                pending.name().unwrap_or_default(),
                format!(
                    "the size field of the extension header at byte {} is malformed",
                    self.at
                ),
            )
        })
    }

    fn parse(block: &[u8; BLOCK], at: u64) -> Result<Header, TarError> {
        let not_a_header = || {
            TarError::corrupt(
                "",
                format!("the block at byte {at} is not a tar header (its checksum does not match)"),
            )
        };
        let stored = numeric(&block[148..156]).ok_or_else(not_a_header)?;
        // The checksum field counts as spaces; old writers summed signed bytes.
        let unsigned: i64 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { i64::from(b) })
            .sum();
        let signed: i64 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    i64::from(b as i8)
                }
            })
            .sum();
        if stored != unsigned && stored != signed {
            return Err(not_a_header());
        }
        let magic = &block[257..263];
        let star = magic == b"ustar\0" && &block[508..512] == b"tar\0";
        let ustar = magic == b"ustar\0";
        let gnu = magic == b"ustar " && &block[263..265] == b" \0";
        let mut name = field(&block[0..100]).to_vec();
        let prefix = if star {
            field(&block[345..476])
        } else if ustar {
            field(&block[345..500])
        } else {
            &[]
        };
        if !prefix.is_empty() {
            let mut full = prefix.to_vec();
            full.push(b'/');
            full.extend_from_slice(&name);
            name = full;
        }
        let typeflag = block[156];
        let devices = ustar || gnu;
        Ok(Header {
            at,
            typeflag,
            link: field(&block[157..257]).to_vec(),
            name,
            size_field: numeric(&block[124..136]),
            mode: numeric(&block[100..108]),
            uid: numeric(&block[108..116]),
            gid: numeric(&block[116..124]),
            mtime: numeric(&block[136..148]).map(|t| u64::try_from(t).unwrap_or(0)),
            major: if devices { numeric(&block[329..337]) } else { Some(0) },
            minor: if devices { numeric(&block[337..345]) } else { Some(0) },
        })
    }
}

/// A header text field: up to its first NUL.
fn field(bytes: &[u8]) -> &[u8] {
    bytes.iter().position(|&b| b == 0).map_or(bytes, |end| &bytes[..end])
}

/// A numeric header field as Go reads it: base-256 when the top bit is set (GNU), else octal
/// between optional spaces and NULs (empty is zero). `None` when malformed.
fn numeric(bytes: &[u8]) -> Option<i64> {
    if let Some(&first) = bytes.first()
        && first & 0x80 != 0
    {
        let negative = first & 0x40 != 0;
        let mut x: u64 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let mut b = if negative { !b } else { b };
            if i == 0 {
                b &= 0x7f;
            }
            if x >> 56 != 0 {
                return None;
            }
            x = x << 8 | u64::from(b);
        }
        let x = i64::try_from(x).ok()?;
        return Some(if negative { !x } else { x });
    }
    let trimmed = {
        let start = bytes.iter().position(|&b| b != b' ' && b != 0).unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(start, |e| e + 1);
        field(&bytes[start..end.max(start)])
    };
    if trimmed.is_empty() {
        return Some(0);
    }
    if !trimmed.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    i64::from_str_radix(std::str::from_utf8(trimmed).ok()?, 8).ok()
}

/// A PAX integer record: decimal digits only.
fn pax_integer(value: &[u8]) -> Option<i64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A PAX time record (`[-]SECONDS[.FRACTION]`) as whole seconds; a time before the epoch is
/// read as the epoch.
fn pax_seconds(value: &[u8]) -> Option<u64> {
    let (negative, digits) = match value.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, value),
    };
    let (whole, fraction) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &[][..]),
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let seconds = pax_integer(whole)?;
    Some(if negative { 0 } else { seconds as u64 })
}

/// The records of a PAX header (`LENGTH KEY=VALUE\n`, each length counting its whole record).
/// Values are bytes: extended attributes may hold newlines and NULs.
fn parse_pax(mut data: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut records = BTreeMap::new();
    while !data.is_empty() {
        let malformed = || {
            format!(
                "a malformed PAX record: {:?}",
                String::from_utf8_lossy(&data[..data.len().min(60)])
            )
        };
        let space = data.iter().position(|&b| b == b' ').ok_or_else(malformed)?;
        let length: usize = Some(&data[..space])
            .filter(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
            .and_then(|d| std::str::from_utf8(d).ok()?.parse().ok())
            .filter(|&n| n > space + 1 && n <= data.len())
            .ok_or_else(malformed)?;
        let (record, rest) = data.split_at(length);
        let body = record[space + 1..].strip_suffix(b"\n").ok_or_else(malformed)?;
        let equals = body.iter().position(|&b| b == b'=').ok_or_else(malformed)?;
        let (key, value) = (&body[..equals], &body[equals + 1..]);
        let key = std::str::from_utf8(key)
            .ok()
            .filter(|k| !k.is_empty() && !k.contains('\0'))
            .ok_or_else(malformed)?;
        if matches!(key, "uname" | "gname") && value.contains(&0) {
            return Err(format!("the PAX {key} record holds a NUL byte"));
        }
        if records.insert(key.to_owned(), value.to_vec()).is_some() {
            return Err(format!("the PAX header repeats the key {key}"));
        }
        data = rest;
    }
    Ok(records)
}

fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// A name for messages: control characters escaped, and a long one shortened.
pub(crate) fn shown(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 200 {
            out.push_str(&format!("… ({} bytes)", path.as_os_str().len()));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Hand-made tar bytes for tests, hostile shapes included.
#[cfg(test)]
pub(crate) mod testing {
    use super::BLOCK;

    /// A ustar header (mode 0644, mtime 1700000000) with its checksum set.
    pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(b"14524770400\0");
        h[156] = typeflag;
        h[157..157 + link.len()].copy_from_slice(link);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        checksum(&mut h);
        h
    }

    pub fn checksum(h: &mut [u8; BLOCK]) {
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// Appends an entry: header, data, padding.
    pub fn entry(out: &mut Vec<u8>, name: &[u8], typeflag: u8, data: &[u8]) {
        out.extend_from_slice(&header(name, typeflag, data.len() as u64, b""));
        out.extend_from_slice(data);
        pad(out);
    }

    pub fn file(out: &mut Vec<u8>, name: &str, data: &[u8]) {
        entry(out, name.as_bytes(), b'0', data);
    }

    pub fn dir(out: &mut Vec<u8>, name: &str) {
        entry(out, name.as_bytes(), b'5', b"");
    }

    /// A symlink (`2`) or hard link (`1`).
    pub fn link(out: &mut Vec<u8>, name: &str, typeflag: u8, target: &str) {
        out.extend_from_slice(&header(name.as_bytes(), typeflag, 0, target.as_bytes()));
    }

    /// A PAX header of `records` for the entry that follows.
    pub fn pax(out: &mut Vec<u8>, records: &[(&str, &[u8])]) {
        let mut data = Vec::new();
        for (key, value) in records {
            let body = key.len() + value.len() + 3;
            // The length counts its own digits.
            let mut n = body + 1;
            while n.to_string().len() + body != n {
                n = n.to_string().len() + body;
            }
            data.extend_from_slice(format!("{n} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        entry(out, b"PaxHeader", b'x', &data);
    }

    pub fn pad(out: &mut Vec<u8>) {
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }

    /// The two zero blocks that end an archive.
    pub fn finish(out: &mut Vec<u8>) {
        out.resize(out.len() + 2 * BLOCK, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    fn members(bytes: &[u8]) -> Result<(Vec<Member>, Ending), TarError> {
        let mut tar = TarStream::new(bytes);
        let mut out = Vec::new();
        while let Some(m) = tar.next_member()? {
            let mut data = Vec::new();
            tar.read_to_end(&mut data).map_err(|e| data_error(e, &m.name))?;
            assert_eq!(data.len() as u64, m.size);
            out.push(m);
        }
        Ok((out, tar.ending().unwrap()))
    }

    fn error(bytes: &[u8]) -> TarError {
        members(bytes).expect_err("an error")
    }

    fn archive() -> Vec<u8> {
        let mut out = Vec::new();
        dir(&mut out, "etc/");
        file(&mut out, "etc/hostname", b"box\n");
        link(&mut out, "etc/l", b'2', "hostname");
        file(&mut out, "etc/last", b"x");
        out
    }

    #[test]
    fn reads_a_well_formed_archive() {
        let mut bytes = archive();
        finish(&mut bytes);
        let (members, ending) = members(&bytes).unwrap();
        let names: Vec<_> = members
            .iter()
            .map(|m| (m.ordinal, m.name.display().to_string(), m.kind))
            .collect();
        assert_eq!(
            names,
            [
                (0, "etc/".into(), MemberKind::Dir),
                (1, "etc/hostname".into(), MemberKind::Regular),
                (2, "etc/l".into(), MemberKind::Symlink),
                (3, "etc/last".into(), MemberKind::Regular),
            ]
        );
        assert_eq!(members[2].link.as_deref(), Some(Path::new("hostname")));
        assert_eq!((members[1].mode, members[1].mtime), (0o644, 1_700_000_000));
        assert_eq!(ending, Ending::default());
    }

    /// umoci ≤ 0.4.7: no footer, and no padding after the last entry's data either.
    #[test]
    fn an_archive_may_end_after_its_last_entry() {
        let mut bytes = archive();
        let (read, ending) = members(&bytes).unwrap();
        assert_eq!(read.len(), 4);
        assert_eq!(
            ending,
            Ending {
                padding_missing: false,
                footer_missing: true
            }
        );
        bytes.truncate(bytes.len() - 511);
        let (read, ending) = members(&bytes).unwrap();
        assert_eq!(read.len(), 4);
        assert_eq!(
            ending,
            Ending {
                padding_missing: true,
                footer_missing: true
            }
        );
        // One zero block of two, as Go accepts.
        let mut one = archive();
        one.resize(one.len() + BLOCK, 0);
        assert!(members(&one).unwrap().1.footer_missing);
        // An empty stream is an empty layer.
        assert!(members(b"").unwrap().0.is_empty());
    }

    /// Every other early end is an error naming the entry it cuts.
    #[test]
    fn an_archive_cut_inside_an_entry_is_an_error() {
        let bytes = archive();
        let last = bytes.len() - 1024; // the header of etc/last
        let cases: &[(usize, &str, &str)] = &[
            (
                last + 512,
                "etc/last",
                "the layer ends inside this entry's data (0 of its 1 bytes)",
            ),
            (
                last + 300,
                "etc/last",
                "the layer ends inside this entry's header (300 of its 512 bytes)",
            ),
            (
                last + 50,
                "",
                "the layer ends inside the header of the entry after etc/l (50 of its 512 bytes)",
            ),
            (50, "", "the layer ends inside its first header (50 of its 512 bytes)"),
            (
                1024 + 2,
                "etc/hostname",
                "the layer ends inside this entry's data (2 of its 4 bytes)",
            ),
            (
                1024 + 4 + 100,
                "etc/hostname",
                "the layer ends inside the padding after this entry's data (100 of its 508 bytes)",
            ),
        ];
        for (at, entry, message) in cases {
            let e = error(&bytes[..*at]);
            assert_eq!(
                (e.code, e.entry.display().to_string(), e.message.as_str()),
                (Code::CorruptLayer, entry.to_string(), *message),
                "cut at {at}"
            );
            // The same when the data is skipped rather than read (the build's kernel.tar).
            let mut tar = TarStream::new(&bytes[..*at]);
            let e = loop {
                match tar.next_member() {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("cut at {at}: accepted"),
                    Err(e) => break e,
                }
            };
            assert_eq!(e.message, *message, "cut at {at}, skipping");
        }
        let mut pax_only = archive();
        pax(&mut pax_only, &[("path", b"after")]);
        let e = error(&pax_only);
        assert_eq!(e.entry, Path::new("after"));
        assert!(e.message.contains("without the entry they describe"), "{}", e.message);
        let mut after_end = archive();
        after_end.resize(after_end.len() + BLOCK, 0);
        file(&mut after_end, "hidden", b"x");
        assert!(
            error(&after_end)
                .message
                .contains("follows the block that ends the archive")
        );
        let mut bad = archive();
        bad[512 + 20] ^= 1;
        assert!(error(&bad).message.contains("is not a tar header"));
    }

    #[test]
    fn nul_in_names_and_links_is_hostile() {
        let mut bytes = Vec::new();
        file(&mut bytes, "bin/sh", b"benign");
        pax(&mut bytes, &[("path", b"bin/sh\0hidden")]);
        file(&mut bytes, "x", b"other");
        let e = error(&bytes);
        assert_eq!(
            (e.code, e.entry.to_string_lossy().as_ref()),
            (Code::HostileLayer, "bin/sh\0hidden")
        );
        assert_eq!(
            e.message,
            "its name holds a NUL byte: tools that stop at it would read another name"
        );

        let mut long = Vec::new();
        entry(&mut long, b"././@LongLink", b'L', b"bin/sh\0hidden\0");
        file(&mut long, "x", b"");
        assert_eq!(error(&long).code, Code::HostileLayer);
        let mut link_nul = Vec::new();
        pax(&mut link_nul, &[("linkpath", b"target\0x")]);
        link(&mut link_nul, "l", b'2', "t");
        assert_eq!(
            error(&link_nul).message,
            "its link target holds a NUL byte: tools that stop at it would read another name"
        );
        // A GNU long name ends with NULs: those are not part of it.
        let mut fine = Vec::new();
        entry(&mut fine, b"././@LongLink", b'L', b"a/long/name\0\0");
        file(&mut fine, "x", b"");
        assert_eq!(members(&fine).unwrap().0[0].name, Path::new("a/long/name"));
    }

    /// A reader that counts what was read from it.
    struct Counting<'a> {
        bytes: &'a [u8],
        read: usize,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.bytes.read(buf)?;
            self.read += n;
            Ok(n)
        }
    }

    /// Oversized extension headers are refused from their header alone: nothing is read or
    /// allocated for them.
    #[test]
    fn oversized_extensions_are_refused_unread() {
        for (typeflag, size, message) in [
            (
                b'L',
                1 << 20,
                "a GNU long name of 1048576 bytes at byte 0 (the longest a name may be is 4096)",
            ),
            (
                b'x',
                32 << 20,
                "a PAX header of 33554432 bytes at byte 0 (the most a layer may use is 1048576)",
            ),
        ] {
            let mut bytes = header(b"././@LongLink", typeflag, size, b"").to_vec();
            bytes.resize(bytes.len() + size as usize, b'a');
            let mut counting = Counting { bytes: &bytes, read: 0 };
            let e = TarStream::new(&mut counting).next_member().unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (Code::LimitExceeded, message));
            assert_eq!(counting.read, BLOCK, "only the header was read");
        }
    }

    #[test]
    fn names_links_and_attributes_within_linux_limits() {
        let ok_name = "a/".repeat(2047) + "bc";
        let long_key = format!("SCHILY.xattr.user.{}", "n".repeat(251));
        type Records<'a> = Vec<(&'a str, Vec<u8>)>;
        let cases: Vec<(Records, &str)> = vec![
            (vec![("path", ok_name.clone().into_bytes())], ""),
            (
                vec![("path", format!("{ok_name}d").into_bytes())],
                "its name is 4097 bytes long (Linux allows 4096)",
            ),
            (
                vec![("path", "x".repeat(256).into_bytes())],
                "its name has a component of 256 bytes (Linux allows 255)",
            ),
            (
                vec![("path", b"f".to_vec()), ("linkpath", "l".repeat(4097).into_bytes())],
                "its link target is 4097 bytes long (Linux allows 4096)",
            ),
            (vec![("SCHILY.xattr.user.big", vec![7; 64 << 10])], ""),
            (
                vec![("SCHILY.xattr.user.big", vec![7; (64 << 10) + 1])],
                "the extended attribute user.big holds 65537 bytes (Linux allows 65536)",
            ),
            (
                vec![(long_key.as_str(), vec![1])],
                "an extended attribute name of 256 bytes (Linux allows 1 to 255)",
            ),
        ];
        for (records, message) in cases {
            let mut bytes = Vec::new();
            let records: Vec<(&str, &[u8])> = records.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            pax(&mut bytes, &records);
            file(&mut bytes, "f", b"");
            match members(&bytes) {
                Ok(_) => assert_eq!(message, "", "accepted"),
                Err(e) => assert_eq!((e.code, e.message.as_str()), (Code::LimitExceeded, message)),
            }
        }
    }

    #[test]
    fn malformed_numbers_are_errors() {
        for (key, value) in [
            ("size", &b"12x"[..]),
            ("uid", b"-1"),
            ("gid", b""),
            ("mtime", b"1.2.3"),
            ("atime", b"x"),
        ] {
            let mut bytes = Vec::new();
            pax(&mut bytes, &[(key, value)]);
            file(&mut bytes, "f", b"");
            let e = error(&bytes);
            assert_eq!(e.code, Code::CorruptLayer);
            assert_eq!(e.entry, Path::new("f"));
            assert_eq!(
                e.message,
                format!(
                    "its PAX {key} record is malformed: {:?}",
                    String::from_utf8_lossy(value)
                )
            );
        }
        let mut h = header(b"f", b'0', 0, b"");
        h[108..116].copy_from_slice(b"00x0000\0");
        checksum(&mut h);
        assert_eq!(
            error(&h).message,
            "its header's uid field is malformed (header at byte 0)"
        );
        let mut negative = header(b"f", b'0', 0, b"");
        negative[124..136].copy_from_slice(&[0xff; 12]);
        checksum(&mut negative);
        assert_eq!(error(&negative).message, "a negative size: -1");
    }

    #[test]
    fn empty_and_ambiguous_names_are_errors() {
        let mut empty_pax = Vec::new();
        pax(&mut empty_pax, &[("path", b"")]);
        file(&mut empty_pax, "f", b"data");
        assert_eq!(
            error(&empty_pax).message,
            "the entry whose header is at byte 1024 has an empty PAX path: it would have no name"
        );
        let mut nameless = Vec::new();
        file(&mut nameless, "", b"");
        assert_eq!(
            error(&nameless).message,
            "the entry whose header is at byte 0 has no name"
        );
        let mut both = Vec::new();
        entry(&mut both, b"././@LongLink", b'L', b"one\0");
        pax(&mut both, &[("path", b"two")]);
        file(&mut both, "f", b"");
        let e = error(&both);
        assert_eq!((e.code, e.entry.as_path()), (Code::HostileLayer, Path::new("one")));
        let mut twice = Vec::new();
        pax(&mut twice, &[("path", b"one")]);
        pax(&mut twice, &[("path", b"two")]);
        file(&mut twice, "f", b"");
        assert_eq!(error(&twice).message, "two PAX headers for one entry");
    }

    #[test]
    fn unsupported_entries_say_what_they_are() {
        let mut socket = Vec::new();
        file(&mut socket, "ok", b"");
        entry(&mut socket, b"run/sock", b' ', b"");
        let e = error(&socket);
        assert_eq!((e.code, e.entry.as_path()), (Code::Unsupported, Path::new("run/sock")));
        assert_eq!(
            e.message,
            "unsupported tar entry type ' ' (byte 0x20): an unknown kind of entry"
        );
        let mut sparse = Vec::new();
        entry(&mut sparse, b"s", b'S', b"");
        assert_eq!(
            error(&sparse).message,
            "a GNU sparse file: sealkit does not read sparse entries"
        );
        let mut pax_sparse = Vec::new();
        pax(&mut pax_sparse, &[("GNU.sparse.major", b"1")]);
        file(&mut pax_sparse, "s", b"");
        assert_eq!(error(&pax_sparse).code, Code::Unsupported);
    }

    /// The extension headers apply as Go applies them; header-only kinds have no data.
    #[test]
    fn extensions_and_sizes_as_go_reads_them() {
        let mut bytes = Vec::new();
        // A folder whose size field lies: Go reads no data for it, nor does this reader.
        bytes.extend_from_slice(&header(b"d/", b'5', 1024, b""));
        pax(
            &mut bytes,
            &[
                ("size", b"3"),
                ("mtime", b"1234.5"),
                ("uid", b"3000000"),
                ("SCHILY.xattr.user.x", b"a\nb"),
            ],
        );
        bytes.extend_from_slice(&header(b"short", b'0', 999, b""));
        bytes.extend_from_slice(b"abc");
        pad(&mut bytes);
        entry(&mut bytes, b"pax_global_header", b'g', b"17 comment=hello\n");
        entry(&mut bytes, b"legacy/", 0, b"");
        let mut big = header(b"b256", b'0', 0, b"");
        big[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        checksum(&mut big);
        bytes.extend_from_slice(&big);
        bytes.extend_from_slice(b"hi");
        let (members, _) = members(&bytes).unwrap();
        let view: Vec<_> = members
            .iter()
            .map(|m| (m.name.display().to_string(), m.kind, m.size))
            .collect();
        assert_eq!(
            view,
            [
                ("d/".into(), MemberKind::Dir, 0),
                ("short".into(), MemberKind::Regular, 3),
                ("legacy/".into(), MemberKind::Dir, 0),
                ("b256".into(), MemberKind::Regular, 2),
            ]
        );
        assert_eq!((members[1].mtime, members[1].uid), (1234, 3_000_000));
        assert_eq!(members[1].xattrs["user.x"], b"a\nb");
    }

    #[test]
    fn numbers_as_go_reads_them() {
        assert_eq!(numeric(b"0000644\0"), Some(0o644));
        assert_eq!(numeric(b" 755 \0\0"), Some(0o755));
        assert_eq!(numeric(b"\0\0\0\0"), Some(0));
        assert_eq!(numeric(b"0000x44\0"), None);
        assert_eq!(numeric(b"00 0644\0"), None);
        assert_eq!(numeric(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(numeric(&[0xff; 8]), Some(-1));
        assert_eq!(numeric(&[0x80, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), None, "overflow");
        assert_eq!(pax_integer(b"12"), Some(12));
        assert_eq!(pax_integer(b"12x"), None);
        assert_eq!(pax_integer(b"-1"), None);
        assert_eq!(pax_integer(b""), None);
        assert_eq!(pax_seconds(b"1700000000.123456789"), Some(1_700_000_000));
        assert_eq!(pax_seconds(b"-5.5"), Some(0));
        assert_eq!(pax_seconds(b"17x"), None);
        assert_eq!(pax_seconds(b"17.x"), None);
    }

    #[test]
    fn pax_records_are_length_prefixed_and_binary_safe() {
        let records = parse_pax(b"29 SCHILY.xattr.user.a=x\ny\0z\n12 path=abc\n").unwrap();
        assert_eq!(records["SCHILY.xattr.user.a"], b"x\ny\0z");
        assert_eq!(records["path"], b"abc");
        for bad in [
            &b"12 path=abc"[..],
            b"13 path=abc\n",
            b"11 path=abc\n\n",
            b"x path=abc\n",
            b"9 =abc\n\n\n",
            b"12 path=abc\n12 path=abd\n",
            b"12 path=abc\n\0",
        ] {
            assert!(parse_pax(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn names_shown_in_messages_are_escaped_and_short() {
        assert_eq!(shown(Path::new("bin/sh\0x\n")), "bin/sh\\0x\\n");
        let long = "a/".repeat(300);
        let shown = shown(Path::new(&long));
        assert!(shown.ends_with("… (600 bytes)") && shown.len() < 220, "{shown}");
    }

    #[test]
    fn unsupported_types_are_named() {
        assert_eq!(
            unsupported_type(b' '),
            "unsupported tar entry type ' ' (byte 0x20): an unknown kind of entry"
        );
        assert_eq!(
            unsupported_type(b'V'),
            "unsupported tar entry type 'V' (byte 0x56): a GNU volume label"
        );
        assert_eq!(
            unsupported_type(0x80),
            "unsupported tar entry type (byte 0x80): an unknown kind of entry"
        );
    }
}
