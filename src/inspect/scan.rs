//! Scanning: every ELF file of an image (streamed from its layers) or of a folder (read from
//! disk), inspected in parallel, reported in path order whatever the thread count.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::elf::{self, Inspection};
use crate::caps;
use crate::image::rootfs::{Kind, Rootfs};

/// Largest ELF file read into memory for inspection; larger ones are reported, not inspected.
pub const MAX_ELF_BYTES: u64 = 1 << 30;

/// The fact of an ELF file over [`MAX_ELF_BYTES`], from a folder or an image alike.
pub fn too_large() -> Inspection {
    Inspection::NotInspected {
        reason: format!("larger than {MAX_ELF_BYTES} bytes"),
    }
}

/// File facts that matter for hardening, whatever the file's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub setuid: bool,
    pub setgid: bool,
    pub world_writable: bool,
    /// Decoded `security.capability` (file capabilities), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<FileCapabilities>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCapabilities {
    pub permitted: Vec<String>,
    pub inheritable: Vec<String>,
    pub effective: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinaryReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub file: FileFacts,
    pub elf: Inspection,
}

/// Decodes a `security.capability` xattr (VFS_CAP_REVISION 1, 2 or 3).
pub fn decode_file_capabilities(value: &[u8]) -> Option<FileCapabilities> {
    let word = |i: usize| {
        value
            .get(i * 4..i * 4 + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let magic = word(0)?;
    let revision = magic & 0xff00_0000;
    let effective = magic & 1 != 0;
    let (permitted, inheritable, rootid) = match revision {
        0x0100_0000 => (u64::from(word(1)?), u64::from(word(2)?), None),
        0x0200_0000 => (
            u64::from(word(1)?) | (u64::from(word(3)?) << 32),
            u64::from(word(2)?) | (u64::from(word(4)?) << 32),
            None,
        ),
        0x0300_0000 => (
            u64::from(word(1)?) | (u64::from(word(3)?) << 32),
            u64::from(word(2)?) | (u64::from(word(4)?) << 32),
            Some(word(5)?),
        ),
        _ => return None,
    };
    let names = |bits: u64| {
        (0..64)
            .filter(|b| bits & (1u64 << b) != 0)
            .map(|b| caps::ALL.get(b).map_or_else(|| format!("CAP_{b}"), |n| (*n).to_owned()))
            .collect()
    };
    Some(FileCapabilities {
        permitted: names(permitted),
        inheritable: names(inheritable),
        effective,
        rootid,
    })
}

fn file_facts(mode: u32, uid: u64, gid: u64, size: u64, is_dir: bool, xattr: Option<&[u8]>) -> FileFacts {
    FileFacts {
        mode: mode & 0o7777,
        uid,
        gid,
        size,
        setuid: mode & 0o4000 != 0,
        setgid: mode & 0o2000 != 0,
        // A world-writable folder with the sticky bit (/tmp) is the accepted pattern.
        world_writable: mode & 0o002 != 0 && !(is_dir && mode & 0o1000 != 0),
        capabilities: xattr.and_then(decode_file_capabilities),
    }
}

/// Every ELF file below `root` on disk (symlinks are not followed), inspected in parallel; a
/// file that cannot be read is reported as not inspected, since it may be one.
pub fn scan_dir(root: &Path) -> std::io::Result<Vec<BinaryReport>> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                files.push(entry.path());
            }
        }
    }
    let mut reports: Vec<BinaryReport> = files.par_iter().filter_map(|path| scan_file(root, path)).collect();
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(reports)
}

fn scan_file(root: &Path, path: &PathBuf) -> Option<BinaryReport> {
    use std::os::unix::fs::OpenOptionsExt;
    let rel = path.strip_prefix(root).unwrap_or(path).display().to_string();
    let report = |meta: &std::fs::Metadata, elf| BinaryReport {
        path: rel.clone(),
        sha256: None,
        file: file_facts(
            meta.mode(),
            u64::from(meta.uid()),
            u64::from(meta.gid()),
            meta.len(),
            false,
            None,
        ),
        elf,
    };
    let unreadable = |e: std::io::Error| Inspection::NotInspected {
        reason: format!("cannot be read: {e}"),
    };
    // Not blocking: a FIFO swapped in since the folder was listed must not stall the scan.
    let opened = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => {
            let meta = path.symlink_metadata().ok().filter(|m| m.is_file())?;
            return Some(report(&meta, unreadable(e)));
        }
    };
    let meta = file.metadata().ok().filter(|m| m.is_file())?;
    let mut magic = [0u8; 4];
    match file.read_exact(&mut magic) {
        Ok(()) if elf::is_elf(&magic) => {}
        Err(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => return Some(report(&meta, unreadable(e))),
        _ => return None,
    }
    let inspection = if meta.len() > MAX_ELF_BYTES {
        too_large()
    } else {
        // SAFETY of the mapping: the file is only read; a concurrent writer could change the bytes
        // under us, which the parser tolerates as it tolerates any malformed input.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => elf::inspect(&map),
            Err(e) => unreadable(e),
        }
    };
    Some(report(&meta, inspection))
}

/// The report of one ELF file of an image, with its file facts from the flattened view.
pub fn binary_report(path: &Path, e: &crate::image::rootfs::Entry, inspection: Inspection) -> BinaryReport {
    BinaryReport {
        path: path.display().to_string(),
        sha256: e.sha256.as_ref().map(ToString::to_string),
        file: file_facts(
            e.mode,
            e.uid,
            e.gid,
            e.size,
            false,
            e.xattrs.get("security.capability").map(Vec::as_slice),
        ),
        elf: inspection,
    }
}

/// File facts of every entry of an image: setuid/setgid, world-writable, file capabilities.
pub fn file_facts_of(rootfs: &Rootfs) -> BTreeMap<String, FileFacts> {
    rootfs
        .entries
        .iter()
        .map(|(path, e)| {
            (
                path.display().to_string(),
                file_facts(
                    e.mode,
                    e.uid,
                    e.gid,
                    e.size,
                    e.kind == Kind::Dir,
                    e.xattrs.get("security.capability").map(Vec::as_slice),
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_file_capabilities() {
        // v2, effective, CAP_NET_RAW (13) permitted.
        let v2 = [
            0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let caps = decode_file_capabilities(&v2).unwrap();
        assert_eq!(caps.permitted, ["CAP_NET_RAW"]);
        assert!(caps.effective);
        // v3 carries the namespace root id.
        let mut v3 = vec![
            0x00, 0x00, 0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        v3.extend_from_slice(&1000u32.to_le_bytes());
        let caps = decode_file_capabilities(&v3).unwrap();
        assert_eq!(
            (caps.permitted.as_slice(), caps.rootid),
            (&["CAP_NET_BIND_SERVICE".to_owned()][..], Some(1000))
        );
        assert!(decode_file_capabilities(&[1, 2]).is_none());
        assert!(decode_file_capabilities(&[0, 0, 0, 9, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn world_writable_sticky_folders_are_the_norm() {
        assert!(!file_facts(0o1777, 0, 0, 0, true, None).world_writable);
        assert!(file_facts(0o777, 0, 0, 0, true, None).world_writable);
        assert!(file_facts(0o4755, 0, 0, 0, false, None).setuid);
    }
}
