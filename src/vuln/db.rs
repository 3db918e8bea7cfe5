//! The advisory database: OSV entries and tracker data imported into one sorted list of
//! [`Advisory`], stored content-addressed. Its bytes are a header line and one line per
//! advisory, in order, so the same inputs give the same bytes — and the same digest — whatever
//! the order of the files or of the entries within them; every result names that digest and the
//! newest entry's time, so an audit knows which data judged an image.
//!
//! Layout of the folder: `sha256-HEX.jsonl.gz` (the database, gzip of the bytes whose SHA-256 is
//! HEX) and `current` (`sha256:HEX`, replaced atomically by each import).

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::advisory::{Advisory, Origin, parse_utc};
use super::{Code, VulnError, debian, osv};

/// The schema of the stored database; a new shape gets a new name.
pub const SCHEMA: &str = "sealkit-vulndb/1";

/// Bounds on what an import reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A JSON file (the tracker's is tens of MiB).
    pub file: u64,
    /// One OSV entry, alone or inside a zip export.
    pub entry: u64,
    /// Members of one zip export (osv.dev's largest has a few hundred thousand).
    pub zip_members: usize,
    /// Bytes decompressed from one zip export, whatever its members claim.
    pub zip_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file: 1 << 30,
            entry: 16 << 20,
            zip_members: 2_000_000,
            zip_total: 16 << 30,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Skip malformed entries (each one listed in [`Imported::skipped`]) instead of failing.
    pub skip_malformed: bool,
    pub limits: Limits,
}

/// An entry that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub entry: String,
    pub reason: String,
}

#[derive(Debug)]
pub struct Imported {
    pub database: Database,
    /// The advisory files read (a zip export is one).
    pub files: usize,
    pub skipped: Vec<Skipped>,
    /// Files in the folders given that are neither JSON nor zip, passed over.
    pub ignored: Vec<String>,
}

/// The advisories, in order, with the digest of their stored bytes.
#[derive(Debug, Clone)]
pub struct Database {
    /// `sha256:HEX` of the stored (uncompressed) bytes.
    pub digest: String,
    /// The newest `modified` time of any entry (OSV's; the tracker's data has none).
    pub newest: Option<String>,
    /// How many advisories the database holds, whether or not all were read
    /// ([`Database::open_where`]).
    pub total: usize,
    pub advisories: Vec<Advisory>,
}

/// What of an advisory decides whether it is read: its packages. Borrowed from the line, so
/// passing over an advisory allocates next to nothing.
#[derive(Deserialize)]
struct Keys<'a> {
    #[serde(borrow)]
    affected: Vec<Key<'a>>,
}

#[derive(Deserialize)]
struct Key<'a> {
    #[serde(borrow)]
    ecosystem: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    schema: String,
    advisories: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    newest: Option<String>,
}

/// `SEALKIT_VULNDB`, else `$XDG_CACHE_HOME/sealkit/vulndb`, else `~/.cache/sealkit/vulndb`: beside
/// the image store's default (`…/sealkit/store`).
pub fn default_location() -> PathBuf {
    crate::image::store::cache_location("SEALKIT_VULNDB", "vulndb")
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> VulnError {
    VulnError::new(
        Code::Read,
        format!("{}: {e}", path.display()),
        "check that the path exists and is readable",
    )
}

fn too_large(what: String) -> VulnError {
    VulnError::new(
        Code::TooLarge,
        what,
        "an export this large is not one osv.dev or the Debian tracker publishes; check the file",
    )
}

impl Database {
    /// The database of `advisories`: duplicates (one origin and id from several files) resolved
    /// the same way whatever their order, everything sorted.
    pub fn new(advisories: Vec<Advisory>) -> Self {
        let mut by_key: BTreeMap<(Origin, String), Advisory> = BTreeMap::new();
        for mut a in advisories {
            a.affected.sort();
            a.affected.dedup();
            match by_key.entry((a.origin, a.id.clone())) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(a);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    let kept = slot.get_mut();
                    match a.origin {
                        // Tracker files each hold some packages of an id: their union.
                        Origin::DebianTracker => {
                            kept.affected.extend(a.affected);
                            kept.affected.sort();
                            kept.affected.dedup();
                            if kept.summary.is_empty() || (!a.summary.is_empty() && a.summary < kept.summary) {
                                kept.summary = a.summary;
                            }
                        }
                        // Two versions of one OSV entry: the later `modified`, then the greater
                        // whole, so neither file order nor entry order decides.
                        Origin::Osv => {
                            let time = |x: &Advisory| x.modified.as_deref().and_then(parse_utc);
                            if (time(&a), &a) > (time(kept), &*kept) {
                                *kept = a;
                            }
                        }
                    }
                }
            }
        }
        let advisories: Vec<Advisory> = by_key.into_values().collect();
        let (digest, newest) = {
            let bytes = encode(&advisories);
            (
                format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
                newest_of(&advisories),
            )
        };
        Database {
            digest,
            newest,
            total: advisories.len(),
            advisories,
        }
    }

    /// Writes the database into `dir` and makes it the current one there.
    pub fn store(&self, dir: &Path) -> Result<PathBuf, VulnError> {
        let write_error = |path: &Path, e: std::io::Error| {
            VulnError::new(
                Code::Write,
                format!("{}: {e}", path.display()),
                "check that the folder is writable and its disk has room",
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        let hex = self.digest.trim_start_matches("sha256:");
        let path = dir.join(format!("sha256-{hex}.jsonl.gz"));
        let bytes = encode(&self.advisories);
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_error(dir, e))?;
        {
            let mut gz =
                flate2::write::GzEncoder::new(std::io::BufWriter::new(tmp.as_file_mut()), flate2::Compression::new(6));
            gz.write_all(&bytes).map_err(|e| write_error(&path, e))?;
            gz.finish()
                .and_then(|mut w| w.flush())
                .map_err(|e| write_error(&path, e))?;
        }
        tmp.as_file().sync_all().map_err(|e| write_error(&path, e))?;
        tmp.persist(&path).map_err(|e| write_error(&path, e.error))?;
        let current = dir.join("current");
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_error(dir, e))?;
        tmp.write_all(format!("{}\n", self.digest).as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| write_error(&current, e))?;
        tmp.persist(&current).map_err(|e| write_error(&current, e.error))?;
        // Earlier databases are no longer current: removed, so the folder holds one.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("sha256-") && name.ends_with(".jsonl.gz") && entry.path() != path {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(path)
    }

    /// The digest `dir`'s `current` names: whether there is a database, without reading it.
    pub fn current(dir: &Path) -> Result<String, VulnError> {
        let current = dir.join("current");
        match std::fs::read_to_string(&current) {
            Ok(text) => Ok(text.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(VulnError::new(
                Code::Missing,
                format!("{}: no advisory database has been imported", dir.display()),
                "import one: sealkit vulndb import FILE|DIR… (OSV JSON, an osv.dev all.zip, the Debian tracker's JSON)",
            )),
            Err(e) => Err(read_error(&current, e)),
        }
    }

    /// The current database of `dir`, checked against its digest while it is read.
    pub fn open(dir: &Path) -> Result<Self, VulnError> {
        Self::open_where(dir, |_, _| true)
    }

    /// The current database of `dir` with only the advisories about a package `wanted`
    /// (ecosystem, name) accepts: every line is still hashed (the digest is checked), but a
    /// scan holds only what can match its packages, not the whole database.
    pub fn open_where(dir: &Path, wanted: impl Fn(&str, &str) -> bool) -> Result<Self, VulnError> {
        let digest = Self::current(dir)?;
        let corrupt = |what: String| {
            VulnError::new(
                Code::Corrupt,
                format!("{}: {what}", dir.display()),
                "import the advisories again (sealkit vulndb import)",
            )
        };
        let Some(hex) = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            return Err(corrupt(format!("`current` does not name a database: {digest:?}")));
        };
        let path = dir.join(format!("sha256-{hex}.jsonl.gz"));
        let file = std::fs::File::open(&path).map_err(|e| corrupt(format!("{}: {e}", path.display())))?;
        // Bounded like any input: a replaced file cannot make the reader allocate without end.
        let mut reader = std::io::BufReader::with_capacity(1 << 16, flate2::read::GzDecoder::new(file).take(64 << 30));
        let mut hasher = Sha256::new();
        let mut line = Vec::new();
        let mut header: Option<Header> = None;
        let mut advisories = Vec::new();
        let mut total = 0;
        loop {
            line.clear();
            let n = reader
                .by_ref()
                .take(Limits::default().entry * 4)
                .read_until(b'\n', &mut line)
                .map_err(|e| corrupt(format!("{}: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            hasher.update(&line);
            match &header {
                None => {
                    let h: Header = serde_json::from_slice(&line).map_err(|e| corrupt(format!("header: {e}")))?;
                    if h.schema != SCHEMA {
                        return Err(corrupt(format!("schema {:?}, not {SCHEMA}", h.schema)));
                    }
                    header = Some(h);
                }
                Some(_) => {
                    total += 1;
                    let keys: Keys =
                        serde_json::from_slice(&line).map_err(|e| corrupt(format!("advisory {total}: {e}")))?;
                    if keys.affected.iter().any(|k| wanted(&k.ecosystem, &k.name)) {
                        advisories.push(
                            serde_json::from_slice::<Advisory>(&line)
                                .map_err(|e| corrupt(format!("advisory {total}: {e}")))?,
                        );
                    }
                }
            }
        }
        let found = format!("sha256:{}", hex::encode(hasher.finalize()));
        if found != digest {
            return Err(corrupt(format!("{} hashes to {found}, not {digest}", path.display())));
        }
        let Some(header) = header.filter(|h| h.advisories == total) else {
            return Err(corrupt("the header does not count the advisories stored".into()));
        };
        Ok(Database {
            digest,
            newest: header.newest,
            total,
            advisories,
        })
    }
}

fn newest_of(advisories: &[Advisory]) -> Option<String> {
    advisories
        .iter()
        .filter_map(|a| a.modified.as_deref().and_then(|m| Some((parse_utc(m)?, m))))
        .max()
        .map(|(_, m)| m.to_owned())
}

/// The stored bytes: a header line, then one advisory per line.
fn encode(advisories: &[Advisory]) -> Vec<u8> {
    let header = Header {
        schema: SCHEMA.into(),
        advisories: advisories.len(),
        newest: newest_of(advisories),
    };
    let mut out = Vec::new();
    // Serializing these plain structs cannot fail.
    let _ = serde_json::to_writer(&mut out, &header);
    out.push(b'\n');
    for a in advisories {
        let _ = serde_json::to_writer(&mut out, a);
        out.push(b'\n');
    }
    out
}

/// Imports OSV JSON (single entries, arrays of them, folders of them, osv.dev's zip exports) and
/// the Debian tracker's JSON into a database (not yet stored).
pub fn import(paths: &[PathBuf], options: &ImportOptions) -> Result<Imported, VulnError> {
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| read_error(path, e))?;
        if meta.is_dir() {
            walk(path, &mut files, &mut ignored)?;
        } else {
            files.push(path.clone());
        }
    }
    let mut advisories = Vec::new();
    let mut skipped = Vec::new();
    for file in &files {
        let mut malformed = |entry: String, reason: String| -> Result<(), VulnError> {
            if !options.skip_malformed {
                return Err(VulnError::new(
                    Code::Malformed,
                    format!("{}: {entry}: {reason}", file.display()),
                    "fix or remove the entry, or pass --skip-malformed to import the rest (each skipped entry is listed)",
                ));
            }
            skipped.push(Skipped {
                file: file.display().to_string(),
                entry,
                reason,
            });
            Ok(())
        };
        read_file(file, &options.limits, &mut advisories, &mut malformed)?;
    }
    if advisories.is_empty() {
        return Err(VulnError::new(
            Code::Empty,
            format!("no advisory in {} file(s)", files.len()),
            "an empty database would find nothing: give OSV JSON, an osv.dev all.zip or the Debian tracker's JSON",
        ));
    }
    Ok(Imported {
        database: Database::new(advisories),
        files: files.len(),
        skipped,
        ignored,
    })
}

/// The JSON and zip files under `dir`, sorted; symlinked folders are not followed (a loop
/// would never end).
fn walk(dir: &Path, files: &mut Vec<PathBuf>, ignored: &mut Vec<String>) -> Result<(), VulnError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| read_error(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| read_error(dir, e))?;
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| read_error(&path, e))?;
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        if meta.is_dir() {
            walk(&path, files, ignored)?;
        } else if matches!(ext.as_deref(), Some("json" | "zip")) && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
        {
            files.push(path);
        } else {
            ignored.push(path.display().to_string());
        }
    }
    Ok(())
}

fn read_file(
    path: &Path,
    limits: &Limits,
    out: &mut Vec<Advisory>,
    malformed: &mut dyn FnMut(String, String) -> Result<(), VulnError>,
) -> Result<(), VulnError> {
    let mut file = std::fs::File::open(path).map_err(|e| read_error(path, e))?;
    let size = file.metadata().map_err(|e| read_error(path, e))?.len();
    let mut magic = [0u8; 4];
    let got = file.read(&mut magic).map_err(|e| read_error(path, e))?;
    if got == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
        return read_zip(path, file, limits, out, malformed);
    }
    if size > limits.file {
        return Err(too_large(format!(
            "{}: {size} bytes, over the {} byte bound of one JSON file",
            path.display(),
            limits.file
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| bytes[i]) {
        Some(b'[') => {
            let entries: Vec<serde_json::Value> = match serde_json::from_slice(&bytes) {
                Ok(entries) => entries,
                Err(e) => {
                    return malformed(
                        "(the whole file)".into(),
                        format!("not a JSON array of OSV entries: {e}"),
                    );
                }
            };
            for (i, doc) in entries.into_iter().enumerate() {
                let name = doc["id"]
                    .as_str()
                    .map_or_else(|| format!("[{i}]"), |id| format!("[{i}] {id}"));
                match osv::parse(doc) {
                    Ok(a) => out.push(a),
                    Err(e) => malformed(name, e)?,
                }
            }
            Ok(())
        }
        Some(b'{') => {
            // The top level's keys tell an OSV entry (`id`) from the tracker's packages
            // without building the tracker as a tree (no source package is called `id`).
            let keys: BTreeMap<String, serde::de::IgnoredAny> = match serde_json::from_slice(&bytes) {
                Ok(keys) => keys,
                Err(e) => return malformed("(the whole file)".into(), format!("not JSON: {e}")),
            };
            if keys.contains_key("id") {
                let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| read_error(path, e))?;
                let name = doc["id"].as_str().unwrap_or("(the entry)").to_owned();
                return match osv::parse(doc) {
                    Ok(a) => {
                        out.push(a);
                        Ok(())
                    }
                    Err(e) => malformed(name, e),
                };
            }
            let parsed = match debian::parse(&bytes[..]) {
                Ok(parsed) => parsed,
                Err(e) => {
                    return Err(VulnError::new(
                        Code::Format,
                        format!(
                            "{}: neither an OSV entry nor the Debian tracker's JSON: {e}",
                            path.display()
                        ),
                        "give OSV JSON (an entry, an array of entries, an osv.dev all.zip) or the tracker's data/json",
                    ));
                }
            };
            out.extend(parsed.advisories);
            for m in parsed.malformed {
                malformed(m.entry, m.reason)?;
            }
            Ok(())
        }
        _ => Err(VulnError::new(
            Code::Format,
            format!("{}: not JSON and not a zip archive", path.display()),
            "give OSV JSON (an entry, an array of entries, an osv.dev all.zip) or the tracker's data/json",
        )),
    }
}

fn read_zip(
    path: &Path,
    file: std::fs::File,
    limits: &Limits,
    out: &mut Vec<Advisory>,
    malformed: &mut dyn FnMut(String, String) -> Result<(), VulnError>,
) -> Result<(), VulnError> {
    let zip_error = |member: Option<&str>, e: &dyn std::fmt::Display| {
        VulnError::new(
            Code::Zip,
            match member {
                Some(m) => format!("{}: {m}: {e}", path.display()),
                None => format!("{}: {e}", path.display()),
            },
            "download the export again: it is truncated or corrupt",
        )
    };
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| zip_error(None, &e))?;
    if archive.len() > limits.zip_members {
        return Err(too_large(format!(
            "{}: {} members, over the bound of {}",
            path.display(),
            archive.len(),
            limits.zip_members
        )));
    }
    let mut total: u64 = 0;
    // Each member is read raw and inflated here, into buffers and an inflater reused for every
    // member: zip's own reader allocates an inflater per member, and a few hundred thousand of
    // those between the advisories kept fragmented the heap to ten times its use.
    let (mut raw, mut buffer) = (Vec::new(), Vec::new());
    let mut inflater = flate2::Decompress::new(false);
    for i in 0..archive.len() {
        let mut member = archive.by_index_raw(i).map_err(|e| zip_error(None, &e))?;
        let name = member.name().map_err(|e| zip_error(None, &e))?.into_owned();
        if member.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        if member.size() > limits.entry || member.compressed_size() > limits.entry {
            return Err(too_large(format!(
                "{}: {name}: {} bytes, over the {} byte bound of one entry",
                path.display(),
                member.size().max(member.compressed_size()),
                limits.entry
            )));
        }
        raw.clear();
        (&mut member)
            .take(limits.entry + 1)
            .read_to_end(&mut raw)
            .map_err(|e| zip_error(Some(&name), &e))?;
        buffer.clear();
        match member.compression() {
            zip::CompressionMethod::Stored => buffer.extend_from_slice(&raw),
            zip::CompressionMethod::Deflated => {
                inflate(&mut inflater, &raw, &mut buffer, limits.entry).map_err(|e| match e {
                    Inflate::TooLarge => too_large(format!(
                        "{}: {name}: inflates past the {} byte bound of one entry",
                        path.display(),
                        limits.entry
                    )),
                    Inflate::Corrupt(e) => zip_error(Some(&name), &e),
                })?;
            }
            other => {
                return Err(zip_error(
                    Some(&name),
                    &format!("compression {other} is not read (only stored and deflate)"),
                ));
            }
        }
        // The sizes a zip declares are not trusted; its checksum is checked.
        if buffer.len() as u64 > limits.entry {
            return Err(too_large(format!(
                "{}: {name}: inflates past the {} byte bound of one entry",
                path.display(),
                limits.entry
            )));
        }
        let mut crc = flate2::Crc::new();
        crc.update(&buffer);
        if crc.sum() != member.crc32() {
            return Err(zip_error(Some(&name), &"its CRC-32 does not match its content"));
        }
        total += buffer.len() as u64;
        if total > limits.zip_total {
            return Err(too_large(format!(
                "{}: inflates past the {} byte bound of one export",
                path.display(),
                limits.zip_total
            )));
        }
        match serde_json::from_slice::<serde_json::Value>(&buffer) {
            Err(e) => malformed(name, format!("not JSON: {e}"))?,
            Ok(doc) => match osv::parse(doc) {
                Ok(a) => out.push(a),
                Err(e) => malformed(name, e)?,
            },
        }
    }
    Ok(())
}

enum Inflate {
    TooLarge,
    Corrupt(String),
}

/// Inflates the raw deflate stream `input` into `out` (cleared), stopping once `out` holds more
/// than `limit` bytes.
fn inflate(inflater: &mut flate2::Decompress, input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<(), Inflate> {
    inflater.reset(false);
    loop {
        if out.len() == out.capacity() {
            if out.len() as u64 > limit {
                return Err(Inflate::TooLarge);
            }
            out.reserve(out.capacity().max(64 << 10));
        }
        let read = inflater.total_in() as usize;
        let before = (read, out.len());
        let status = inflater
            .decompress_vec(&input[read.min(input.len())..], out, flate2::FlushDecompress::Finish)
            .map_err(|e| Inflate::Corrupt(e.to_string()))?;
        if out.len() as u64 > limit {
            return Err(Inflate::TooLarge);
        }
        match status {
            flate2::Status::StreamEnd => return Ok(()),
            // No progress with room to write: the stream is cut short.
            _ if (inflater.total_in() as usize, out.len()) == before && out.len() < out.capacity() => {
                return Err(Inflate::Corrupt("the deflate stream ends early".into()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, modified: &str, fixed: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "modified": modified, "summary": format!("{id} summary"),
            "affected": [{"package": {"ecosystem": "PyPI", "name": "p"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})
    }

    fn write(dir: &Path, name: &str, doc: &serde_json::Value) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
        path
    }

    fn zip_of(path: &Path, members: &[(&str, Vec<u8>)]) {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in members {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }

    const TRACKER: &str = r#"{"xz-utils": {"CVE-2024-3094": {"description": "backdoor",
        "releases": {"bookworm": {"status": "resolved", "repositories": {}, "fixed_version": "0", "urgency": "not yet assigned"}}}}}"#;

    /// Same inputs, any order, any split over files: the same bytes and digest.
    #[test]
    fn the_digest_depends_on_the_advisories_only() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let e1 = entry("PYSEC-1", "2024-01-01T00:00:00Z", "1.0");
        let e2 = entry("PYSEC-2", "2024-02-01T00:00:00.5Z", "2.0");
        let old = entry("PYSEC-1", "2023-01-01T00:00:00Z", "0.9");
        write(&a, "1.json", &e1);
        write(&a, "2.json", &e2);
        write(&a, "old.json", &old);
        std::fs::write(a.join("tracker.json"), TRACKER).unwrap();
        std::fs::write(a.join("README.md"), "not advisories").unwrap();
        write(&b, "both.json", &serde_json::json!([e2, old]));
        zip_of(
            &b.join("all.zip"),
            &[("PYSEC-1.json", serde_json::to_vec(&e1).unwrap())],
        );
        std::fs::write(b.join("x-tracker.json"), TRACKER).unwrap();
        let first = import(std::slice::from_ref(&a), &ImportOptions::default()).unwrap();
        let second = import(&[b.join("x-tracker.json"), b.clone()], &ImportOptions::default()).unwrap();
        assert_eq!(first.database.digest, second.database.digest);
        assert_eq!(first.database.advisories.len(), 3);
        assert_eq!(first.ignored.len(), 1, "{:?}", first.ignored);
        // The later `modified` of one id wins, whichever file came first.
        let p1 = first.database.advisories.iter().find(|x| x.id == "PYSEC-1").unwrap();
        assert_eq!(
            p1.affected[0].ranges[0].events[1],
            super::super::advisory::Event::Fixed("1.0".into())
        );
        assert_eq!(first.database.newest.as_deref(), Some("2024-02-01T00:00:00.5Z"));

        // Stored and read back: the digest is that of the stored bytes.
        let store = tmp.path().join("db");
        first.database.store(&store).unwrap();
        let opened = Database::open(&store).unwrap();
        assert_eq!(opened.digest, first.database.digest);
        assert_eq!(opened.advisories, first.database.advisories);
        assert_eq!(opened.newest, first.database.newest);
        // Read for some packages only: the same digest and count, only their advisories held.
        let some = Database::open_where(&store, |ecosystem, _| ecosystem == "Debian:12").unwrap();
        assert_eq!((some.digest.as_str(), some.total), (first.database.digest.as_str(), 3));
        let ids: Vec<&str> = some.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2024-3094"]);
        // A second import replaces it; only the current one stays.
        let only = import(&[a.join("2.json")], &ImportOptions::default()).unwrap();
        only.database.store(&store).unwrap();
        let files: Vec<_> = std::fs::read_dir(&store)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(files.len(), 2, "{files:?}");
        assert_eq!(Database::open(&store).unwrap().digest, only.database.digest);
    }

    #[test]
    fn a_changed_database_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), "e.json", &entry("X-1", "2024-01-01T00:00:00Z", "1.0"));
        let db = import(&[path], &ImportOptions::default()).unwrap().database;
        let store = tmp.path().join("db");
        let stored = db.store(&store).unwrap();
        let other = Database::new(vec![osv::parse(entry("X-2", "2024-01-01T00:00:00Z", "1.0")).unwrap()]);
        let bytes = encode(&other.advisories);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        gz.write_all(&bytes).unwrap();
        std::fs::write(&stored, gz.finish().unwrap()).unwrap();
        let e = Database::open(&store).unwrap_err();
        assert_eq!(e.code, Code::Corrupt, "{e}");
        let e = Database::open(&tmp.path().join("none")).unwrap_err();
        assert_eq!(e.code, Code::Missing);
    }

    #[test]
    fn malformed_entries_are_named_and_skipped_only_when_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let good = serde_json::to_vec(&entry("X-1", "2024-01-01T00:00:00Z", "1.0")).unwrap();
        let zip = tmp.path().join("all.zip");
        zip_of(
            &zip,
            &[
                ("X-1.json", good),
                ("BAD-2.json", b"{\"id\": \"BAD-2\"}".to_vec()),
                ("BAD-3.json", b"{".to_vec()),
            ],
        );
        let e = import(std::slice::from_ref(&zip), &ImportOptions::default()).unwrap_err();
        assert_eq!(e.code, Code::Malformed);
        assert!(
            e.message.contains("all.zip: BAD-2.json: missing field `modified`"),
            "{e}"
        );
        let options = ImportOptions {
            skip_malformed: true,
            ..Default::default()
        };
        let imported = import(&[zip], &options).unwrap();
        assert_eq!(imported.database.advisories.len(), 1);
        let skipped: Vec<&str> = imported.skipped.iter().map(|s| s.entry.as_str()).collect();
        assert_eq!(skipped, ["BAD-2.json", "BAD-3.json"]);
    }

    #[test]
    fn hostile_and_broken_inputs_are_errors_not_panics() {
        let tmp = tempfile::tempdir().unwrap();
        let good = serde_json::to_vec(&entry("X-1", "2024-01-01T00:00:00Z", "1.0")).unwrap();
        let zip = tmp.path().join("all.zip");
        zip_of(&zip, &[("X-1.json", good.clone())]);
        // A member whose bytes changed after it was written: its checksum says so.
        let stored = tmp.path().join("stored.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&stored).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        writer.start_file("X-1.json", options).unwrap();
        writer.write_all(&good).unwrap();
        writer.finish().unwrap();
        let mut bytes = std::fs::read(&stored).unwrap();
        let at = bytes.windows(4).position(|w| w == b"X-1\"").unwrap();
        bytes[at] = b'Y';
        std::fs::write(&stored, &bytes).unwrap();
        let e = import(&[stored], &ImportOptions::default()).unwrap_err();
        assert_eq!(e.code, Code::Zip, "{e}");
        assert!(e.message.contains("CRC-32"), "{e}");
        // Truncated export.
        let bytes = std::fs::read(&zip).unwrap();
        let truncated = tmp.path().join("truncated.zip");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(
            import(&[truncated], &ImportOptions::default()).unwrap_err().code,
            Code::Zip
        );
        // A member that inflates past the bound (a bomb, at a small scale).
        let bomb = tmp.path().join("bomb.zip");
        zip_of(&bomb, &[("X-1.json", good), ("BIG.json", vec![b' '; 1 << 20])]);
        let options = ImportOptions {
            limits: Limits {
                entry: 64 << 10,
                ..Default::default()
            },
            ..Default::default()
        };
        let e = import(std::slice::from_ref(&bomb), &options).unwrap_err();
        assert_eq!(e.code, Code::TooLarge, "{e}");
        assert!(e.message.contains("BIG.json"), "{e}");
        let options = ImportOptions {
            limits: Limits {
                zip_total: 100 << 10,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(import(&[bomb], &options).unwrap_err().code, Code::TooLarge);
        for (name, text, code) in [
            ("text.json", "hello", Code::Format),
            ("array.json", "[1, 2]", Code::Malformed),
            ("tracker.json", r#"{"p": ["not", "an", "object"]}"#, Code::Format),
            ("empty.json", "[]", Code::Empty),
        ] {
            let path = tmp.path().join(name);
            std::fs::write(&path, text).unwrap();
            let e = import(&[path], &ImportOptions::default()).unwrap_err();
            assert_eq!(e.code, code, "{name}: {e}");
        }
    }
}
