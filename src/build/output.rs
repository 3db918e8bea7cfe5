//! Where outputs land. A file output (`sbom -o`, `image export -o`, a lock file) replaces a
//! regular file atomically, or is written through to a character device or FIFO (`/dev/null`,
//! `/dev/stdout`, a pipe); nothing else is ever replaced. The build's folder output
//! ([`super::build`]) holds its own staging folders, which a later build can tell apart from
//! a live one's (docs/formats.md).

use std::fs::{File, FileType};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::{BuildError, Code};

/// What a path holds, for messages.
pub fn kind_of(t: FileType) -> &'static str {
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a file"
    }
}

fn clash(path: &Path, message: String, hint: &str) -> BuildError {
    BuildError::Input {
        code: Code::OutputClash,
        what: path.display().to_string(),
        message,
        hint: hint.into(),
    }
}

/// A failure to write the output `path`, with its hint.
pub fn write_error(path: &Path, source: io::Error) -> BuildError {
    BuildError::Io {
        path: path.display().to_string(),
        source,
        hint: "check the path, its folder's permissions and the space left on its disk".into(),
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> BuildError + '_ {
    move |e| write_error(path, e)
}

enum Target {
    /// Made or replaced whole: the file appears complete or not at all.
    Replace(PathBuf),
    /// A device or FIFO, opened and written in place.
    Through(File),
}

/// Where writing `path` goes. A symlink is followed, so a link to a file replaces the file
/// (the link stays) and a link to /dev/null writes there. `stat` follows /proc's links too, so
/// `/dev/stdout` and `/dev/fd/N` on a pipe (whose link text names no file) are FIFOs.
fn target(path: &Path) -> Result<Target, BuildError> {
    let kind = match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return match path.symlink_metadata() {
                Ok(_) => Err(clash(
                    path,
                    "is a symlink to nothing".into(),
                    "remove the symlink, or name the file it should point at",
                )),
                Err(_) => Ok(Target::Replace(path.to_path_buf())),
            };
        }
        Err(e) => return Err(io_error(path)(e)),
        Ok(m) => m.file_type(),
    };
    // The file itself is replaced, in its own folder, and a link to it stays a link.
    let replace = || Ok(Target::Replace(std::fs::canonicalize(path).map_err(io_error(path))?));
    if kind.is_file() {
        return replace();
    }
    if kind.is_char_device() || kind.is_fifo() {
        let file = File::options().write(true).open(path).map_err(io_error(path))?;
        // Swapped for a regular file since it was looked at: that one is replaced whole.
        return match file.metadata().map_err(io_error(path))?.file_type().is_file() {
            true => replace(),
            false => Ok(Target::Through(file)),
        };
    }
    Err(clash(
        path,
        format!(
            "is {}: sealkit writes a file here, or streams to a character device or FIFO",
            kind_of(kind)
        ),
        "name a file (or - for stdout)",
    ))
}

/// Writes the file output `path` with `write`: a new or regular file is replaced atomically (a
/// temporary file beside it, renamed over it once complete, mode 0666 less the umask); a
/// character device or FIFO is written through; anything else is refused (`output-clash`).
/// `write`'s own errors are returned as they are ([`write_error`] gives one for an I/O error).
pub fn write_file<E: From<BuildError>>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    match target(path)? {
        Target::Through(file) => {
            let mut out = BufWriter::with_capacity(1 << 16, file);
            write(&mut out)?;
            Ok(out.flush().map_err(io_error(path))?)
        }
        Target::Replace(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = tempfile::Builder::new()
                .prefix(".sealkit-")
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
                .tempfile_in(dir)
                .map_err(io_error(dir))?;
            let mut out = BufWriter::with_capacity(1 << 16, tmp.as_file());
            write(&mut out)?;
            out.flush().map_err(io_error(&path))?;
            drop(out);
            tmp.as_file().sync_all().map_err(io_error(&path))?;
            tmp.persist(&path).map_err(|e| write_error(&path, e.error))?;
            Ok(())
        }
    }
}
