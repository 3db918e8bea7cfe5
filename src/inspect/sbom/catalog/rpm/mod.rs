//! RPM packages: the sqlite rpmdb (Fedora ≥ 36, RHEL 9, openSUSE) and the Berkeley DB one (RHEL
//! ≤ 8, CentOS 7, Amazon Linux 2), one header blob per installed package, read with our own
//! bounded header parser. SUSE's NDB (`Packages.db`) is not read: its presence is a problem, so
//! nobody takes a short package list for a complete one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Cataloger, Input};
use crate::inspect::sbom::{Distro, Ecosystem, Files, Package, Problem, cpe};

mod bdb;

/// Where rpm keeps its sqlite database: `_dbpath` of RHEL 9 and of Fedora ≥ 36 / openSUSE (where
/// `var/lib/rpm` is usually a symlink to the second).
const SQLITE_DBS: [&str; 2] = ["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"];
const BERKELEY_DBS: [&str; 2] = ["var/lib/rpm/Packages", "usr/share/rpm/Packages"];
const NDB_DBS: [&str; 2] = ["var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"];

pub struct Rpm;

impl Cataloger for Rpm {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wanted(&self, path: &Path) -> bool {
        // The write-ahead log travels with the database: rpm may leave committed transactions in it.
        SQLITE_DBS
            .iter()
            .any(|db| path == Path::new(db) || path == Path::new(&format!("{db}-wal")))
            || BERKELEY_DBS.iter().any(|db| path == Path::new(db))
    }

    fn catalog(&self, input: &Input, problems: &mut Vec<Problem>) -> Vec<Package> {
        catalog(&input.files, input.distro, problems)
    }
}

// Header tags (rpmtag.h) and data types (rpmTagType).
const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const VENDOR: u32 = 1011;
const LICENSE: u32 = 1014;
const ARCH: u32 = 1022;
const OLDFILENAMES: u32 = 1027;
const SOURCERPM: u32 = 1044;
const PROVIDENAME: u32 = 1047;
const REQUIRENAME: u32 = 1049;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;

const INT32: u32 = 4;
const STRING: u32 = 6;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

/// rpm's own limits (header.c): a header past them is corrupt whatever the blob's size.
const HEADER_TAGS_MAX: usize = 0xffff;
const HEADER_DATA_MAX: usize = 0x0fff_ffff;

struct IndexEntry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// One header blob as stored in the rpmdb: entry count, data length, the index entries, then the
/// data store (big-endian; no magic, unlike a header inside an .rpm file).
pub struct Header<'a> {
    entries: Vec<IndexEntry>,
    data: &'a [u8],
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Header<'a> {
    /// Checks every claimed count and offset against the blob before anything is allocated.
    pub fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(format!("header blob of {} bytes is too short", blob.len()));
        };
        let (il, dl) = (il as usize, dl as usize);
        if il == 0 || il > HEADER_TAGS_MAX || dl > HEADER_DATA_MAX {
            return Err(format!("header claims {il} entries and {dl} data bytes: out of range"));
        }
        let need = il
            .checked_mul(16)
            .and_then(|n| n.checked_add(8))
            .and_then(|n| n.checked_add(dl));
        if need.is_none_or(|n| n > blob.len()) {
            return Err(format!(
                "header claims {il} entries and {dl} data bytes but the blob holds {} bytes (truncated)",
                blob.len()
            ));
        }
        let data = &blob[8 + il * 16..8 + il * 16 + dl];
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let field = |k: usize| be32(blob, at + 4 * k).unwrap_or_default();
            let (tag, kind, offset, count) = (field(0), field(1), field(2) as usize, field(3) as usize);
            if offset > dl {
                return Err(format!("tag {tag}: data offset {offset} past the {dl}-byte data store"));
            }
            entries.push(IndexEntry {
                tag,
                kind,
                offset,
                count,
            });
        }
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&IndexEntry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// `count` NUL-terminated strings from `offset`, each found before it is kept.
    fn strings_at(&self, e: &IndexEntry) -> Result<Vec<String>, String> {
        // Each string takes at least its NUL: a larger count cannot be true.
        if e.count > self.data.len() - e.offset {
            return Err(format!(
                "tag {}: {} strings cannot fit in the data store",
                e.tag, e.count
            ));
        }
        let mut out = Vec::new();
        let mut at = e.offset;
        for _ in 0..e.count {
            let rest = &self.data[at..];
            let Some(end) = rest.iter().position(|b| *b == 0) else {
                return Err(format!("tag {}: string without its terminating NUL", e.tag));
            };
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            at += end + 1;
        }
        Ok(out)
    }

    /// A single string (the first translation of an i18n string).
    pub fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some(e) = self.entry(tag) else { return Ok(None) };
        match e.kind {
            STRING | I18NSTRING => {
                let one = IndexEntry {
                    count: 1,
                    tag: e.tag,
                    kind: e.kind,
                    offset: e.offset,
                };
                Ok(self.strings_at(&one)?.pop())
            }
            STRING_ARRAY => Ok(self.strings_at(e)?.into_iter().next()),
            other => Err(format!("tag {tag}: type {other} where a string was expected")),
        }
    }

    pub fn strings(&self, tag: u32) -> Result<Vec<String>, String> {
        match self.entry(tag) {
            None => Ok(Vec::new()),
            Some(e) if e.kind == STRING_ARRAY || e.kind == STRING => self.strings_at(e),
            Some(e) => Err(format!("tag {tag}: type {} where strings were expected", e.kind)),
        }
    }

    pub fn int32s(&self, tag: u32) -> Result<Vec<u32>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if e.kind != INT32 {
            return Err(format!(
                "tag {tag}: type {} where 32-bit integers were expected",
                e.kind
            ));
        }
        let end = e.count.checked_mul(4).and_then(|n| n.checked_add(e.offset));
        if end.is_none_or(|end| end > self.data.len()) {
            return Err(format!("tag {tag}: {} integers run past the data store", e.count));
        }
        Ok((0..e.count).filter_map(|i| be32(self.data, e.offset + 4 * i)).collect())
    }
}

/// What the catalog needs from one installed package's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
    pub license: Option<String>,
    pub vendor: Option<String>,
    pub source_rpm: Option<String>,
    pub provides: Vec<String>,
    pub requires: Vec<String>,
    /// Owned paths without the leading `/`, as `rpm -ql` lists them.
    pub files: Vec<String>,
}

/// Parses one header blob of the rpmdb.
pub fn record(blob: &[u8]) -> Result<Record, String> {
    let h = Header::parse(blob)?;
    let (Some(name), Some(version), Some(release)) = (h.string(NAME)?, h.string(VERSION)?, h.string(RELEASE)?) else {
        return Err("header without NAME, VERSION or RELEASE".into());
    };
    // rpm prints "(none)" for an absent string tag; a header may also carry it literally.
    let present = |s: Option<String>| s.filter(|s| !s.is_empty() && s != "(none)");
    let mut files = match h.strings(BASENAMES)? {
        base if !base.is_empty() => {
            let dirs = h.strings(DIRNAMES)?;
            let index = h.int32s(DIRINDEXES)?;
            if index.len() != base.len() {
                return Err(format!(
                    "{name}: {} file names but {} folder indexes",
                    base.len(),
                    index.len()
                ));
            }
            let mut out = Vec::with_capacity(base.len());
            for (b, i) in base.iter().zip(index) {
                let Some(dir) = dirs.get(i as usize) else {
                    return Err(format!(
                        "{name}: folder index {i} of {b} past the {} folders",
                        dirs.len()
                    ));
                };
                out.push(format!("{dir}{b}"));
            }
            out
        }
        _ => h.strings(OLDFILENAMES)?,
    };
    for f in &mut files {
        *f = f.trim_start_matches('/').to_owned();
    }
    files.retain(|f| !f.is_empty());
    files.sort();
    files.dedup();
    Ok(Record {
        epoch: h.int32s(EPOCH)?.first().copied(),
        arch: present(h.string(ARCH)?),
        license: present(h.string(LICENSE)?),
        vendor: present(h.string(VENDOR)?),
        source_rpm: present(h.string(SOURCERPM)?),
        provides: h.strings(PROVIDENAME)?,
        requires: h.strings(REQUIRENAME)?,
        files,
        name,
        version,
        release,
    })
}

/// `glibc-2.39-22.fc40.src.rpm` → (`glibc`, `2.39`, `22.fc40`).
pub fn split_source_rpm(srpm: &str) -> Option<(&str, &str, &str)> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    (!name.is_empty() && !version.is_empty() && !release.is_empty()).then_some((name, version, release))
}

/// syft's rpm purl: namespace the distribution (`redhat` for RHEL, `opensuse` for every
/// openSUSE), version `VERSION-RELEASE`, the epoch as a qualifier, the source rpm as `upstream`.
pub fn purl(r: &Record, distro: Option<&Distro>) -> String {
    let namespace = distro.map(|d| match d.id.as_str() {
        "rhel" => "redhat",
        id if id.starts_with("opensuse") => "opensuse",
        id => id,
    });
    let version = format!("{}-{}", r.version, r.release);
    let build = || -> Result<String, packageurl::Error> {
        let mut p = packageurl::PackageUrl::new("rpm", r.name.as_str())?;
        if let Some(ns) = namespace {
            p.with_namespace(ns)?;
        }
        p.with_version(version.as_str())?;
        if let Some(a) = &r.arch {
            p.add_qualifier("arch", a.as_str())?;
        }
        if let Some(e) = r.epoch {
            p.add_qualifier("epoch", e.to_string())?;
        }
        if let Some(s) = &r.source_rpm {
            p.add_qualifier("upstream", s.as_str())?;
        }
        if let Some(d) = distro {
            p.add_qualifier("distro", d.qualifier())?;
        }
        Ok(p.to_string())
    };
    build().unwrap_or_else(|_| format!("pkg:rpm/{}@{version}", r.name))
}

/// The header blobs of a database: (which record, the blob or why it is unreadable).
type Rows = Vec<(String, Result<Vec<u8>, String>)>;

/// Opens the collected database read-only from a private copy (sqlite reads files, and the
/// write-ahead log must sit beside the database to be replayed).
fn sqlite_rows(bytes: &[u8], wal: Option<&Vec<u8>>) -> Result<Rows, String> {
    if !bytes.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database (no \"SQLite format 3\" header)".into());
    }
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder to read it: {e}"))?;
    let path = dir.path().join("rpmdb.sqlite");
    std::fs::write(&path, bytes).map_err(|e| format!("cannot copy it to {}: {e}", path.display()))?;
    if let Some(wal) = wal.filter(|w| !w.is_empty()) {
        let wal_path = dir.path().join("rpmdb.sqlite-wal");
        std::fs::write(&wal_path, wal).map_err(|e| format!("cannot copy {}: {e}", wal_path.display()))?;
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&path, flags).map_err(|e| format!("sqlite: {e}"))?;
    // The database is outside data: its schema must not run functions for us.
    conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;")
        .map_err(|e| format!("sqlite: {e}"))?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("sqlite: {e}"))?;
    if tables == 0 {
        return Err("no Packages table: not an rpm database".into());
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(|e| format!("sqlite: {e}"))?;
    let rows = stmt
        .query_map([], |row| {
            let hnum: i64 = row.get(0)?;
            Ok((
                format!("record {hnum}"),
                row.get::<_, Vec<u8>>(1).map_err(|e| format!("blob: {e}")),
            ))
        })
        .map_err(|e| format!("sqlite: {e}"))?;
    rows.collect::<Result<Rows, _>>().map_err(|e| format!("sqlite: {e}"))
}

/// Names of the installed packages each requirement resolves to: a package of that name, a
/// package providing it, or (for `/path` requirements) the package owning the file.
fn resolve_depends(records: &[Record]) -> Vec<Vec<String>> {
    let mut capabilities: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut owners: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in records {
        capabilities.entry(&r.name).or_default().insert(&r.name);
        for p in &r.provides {
            capabilities.entry(p).or_default().insert(&r.name);
        }
        for f in &r.files {
            owners.entry(f).or_default().insert(&r.name);
        }
    }
    records
        .iter()
        .map(|r| {
            let mut out = BTreeSet::new();
            for req in &r.requires {
                // A file requirement is met by the file's owner or by an explicit `Provides: /path`.
                let owner = req.strip_prefix('/').and_then(|path| owners.get(path));
                let found = owner.into_iter().chain(capabilities.get(req.as_str())).flatten();
                out.extend(found.filter(|n| **n != r.name).map(|n| (*n).to_owned()));
            }
            out.into_iter().collect()
        })
        .collect()
}

fn package_of(r: &Record, depends: Vec<String>, file: &str, distro: Option<&Distro>) -> Package {
    // syft's version: the epoch only when the header has one (0 would claim what rpm did not).
    let epoch = r.epoch.map(|e| format!("{e}:")).unwrap_or_default();
    let version = format!("{epoch}{}-{}", r.version, r.release);
    let source = r.source_rpm.as_deref().and_then(split_source_rpm);
    Package {
        ecosystem: Ecosystem::Rpm,
        purl: purl(r, distro),
        cpes: vec![cpe(&r.name, &r.name, &version)],
        name: r.name.clone(),
        arch: r.arch.clone(),
        source_name: source.map(|(n, _, _)| n.to_owned()),
        // A spec's Epoch applies to the source package as to every binary one built from it.
        source_version: source.map(|(_, v, rel)| format!("{epoch}{v}-{rel}")),
        supplier: r.vendor.clone(),
        licenses: r.license.iter().cloned().collect(),
        depends,
        files: r.files.clone(),
        found_in: file.to_owned(),
        version,
    }
}

fn catalog_db(
    file: &str,
    rows: Result<Rows, String>,
    distro: Option<&Distro>,
    problems: &mut Vec<Problem>,
) -> Vec<Package> {
    let problem = |message: String| Problem {
        file: file.to_owned(),
        line: 0,
        message,
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            problems.push(problem(format!("rpm database not read: {e}")));
            return Vec::new();
        }
    };
    let mut records = Vec::new();
    for (which, blob) in rows {
        match blob.and_then(|b| record(&b)) {
            Ok(r) => records.push(r),
            Err(e) => problems.push(problem(format!(
                "package {which} skipped: {e} (`rpmdb --rebuilddb` in the image rebuilds a damaged database)"
            ))),
        }
    }
    let depends = resolve_depends(&records);
    records
        .iter()
        .zip(depends)
        .map(|(r, d)| package_of(r, d, file, distro))
        .collect()
}

fn catalog(files: &Files, distro: Option<&Distro>, problems: &mut Vec<Problem>) -> Vec<Package> {
    let mut packages = Vec::new();
    // The real paths only: read through a `var/lib/rpm` symlink the same database would count twice.
    for db in SQLITE_DBS {
        if let Some(bytes) = files.contents.get(Path::new(db)) {
            let wal = files.contents.get(Path::new(&format!("{db}-wal")));
            packages.extend(catalog_db(db, sqlite_rows(bytes, wal), distro, problems));
        }
    }
    for db in BERKELEY_DBS {
        if let Some(bytes) = files.contents.get(Path::new(db)) {
            packages.extend(catalog_db(db, bdb::values(bytes), distro, problems));
        }
    }
    for (path, _) in files.rootfs.files() {
        let Some(p) = path.to_str() else { continue };
        if NDB_DBS.contains(&p) {
            problems.push(Problem {
                file: p.to_owned(),
                line: 0,
                message: format!(
                    "rpm NDB database ({p}) is not read: its packages are missing from this SBOM. To \
                     fix, convert it in the image with `rpmdb --rebuilddb --define '_db_backend sqlite'`"
                ),
            });
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sbom::catalog::testdata;
    use std::path::PathBuf;

    const ALPHA_FILES: [&str; 4] = [
        "etc/alpha.conf",
        "usr/bin/alpha",
        "usr/share/alpha",
        "usr/share/alpha/data.txt",
    ];

    /// The header rpm 4.18 wrote for a package rpmbuild built (testdata/README.md); the expected
    /// values are what `rpm -q --qf`, `rpm -ql` and `rpm -q --provides` say of it.
    #[test]
    fn a_real_header() {
        let r = record(&testdata::read(&Rpm, "alpha.header")).unwrap();
        assert_eq!(
            (r.name.as_str(), r.epoch, r.version.as_str(), r.release.as_str()),
            ("alpha", Some(2), "1.0", "3")
        );
        assert_eq!(r.arch.as_deref(), Some("noarch"));
        assert_eq!(r.license.as_deref(), Some("MIT AND Apache-2.0"));
        assert_eq!(r.vendor.as_deref(), Some("Sealkit Tests"));
        assert_eq!(r.source_rpm.as_deref(), Some("alpha-1.0-3.src.rpm"));
        assert_eq!(r.files, ALPHA_FILES);
        assert_eq!(r.provides, ["alpha", "alpha-libs", "config(alpha)"]);
        assert_eq!(
            record(&testdata::read(&Rpm, "alpha.header-truncated")).unwrap_err(),
            "header claims 62 entries and 1188 data bytes but the blob holds 1000 bytes (truncated)"
        );
    }

    /// The same header in rpm's sqlite database and in a Berkeley DB one: one package each,
    /// the same but for where it was found.
    #[test]
    fn real_databases() {
        let fedora = testdata::distro("fedora", "40");
        for (sample, at) in [("rpmdb.sqlite", SQLITE_DBS[1]), ("Packages", BERKELEY_DBS[0])] {
            let (p, problems) = testdata::run(&Rpm, Some(&fedora), &[(sample, at)]);
            assert_eq!(problems, [], "{sample}");
            assert_eq!(p.len(), 1, "{sample}");
            let a = &p[0];
            assert_eq!(
                testdata::identity(a),
                (
                    "alpha",
                    "2:1.0-3",
                    Some("noarch"),
                    Some("alpha"),
                    Some("2:1.0-3"),
                    "pkg:rpm/fedora/alpha@1.0-3?arch=noarch&distro=fedora-40&epoch=2&upstream=alpha-1.0-3.src.rpm"
                )
            );
            assert_eq!(a.supplier.as_deref(), Some("Sealkit Tests"));
            assert_eq!(a.licenses, ["MIT AND Apache-2.0"]);
            assert_eq!(a.files, ALPHA_FILES);
            assert_eq!(a.found_in, at);
        }
    }

    /// Databases cut short: each is one problem naming the file, and no package is made up.
    #[test]
    fn truncated_databases() {
        let (p, problems) = testdata::run(&Rpm, None, &[("rpmdb.sqlite-truncated", SQLITE_DBS[0])]);
        assert!(p.is_empty());
        assert_eq!(
            testdata::lines(&problems),
            ["0: rpm database not read: sqlite: database disk image is malformed"]
        );
        let (p, problems) = testdata::run(&Rpm, None, &[("Packages-truncated", BERKELEY_DBS[0])]);
        assert!(p.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].file, BERKELEY_DBS[0]);
        assert!(
            problems[0]
                .message
                .starts_with("package record 1 (page 2, pair 0) skipped: page 5 is outside the 2560-byte file"),
            "{problems:?}"
        );
    }

    /// A header blob of (tag, type, count, data) entries, data laid out in order.
    fn blob(entries: &[(u32, u32, u32, &[u8])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, count, bytes) in entries {
            for v in [*tag, *kind, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn good() -> Vec<u8> {
        blob(&[
            (NAME, STRING, 1, b"bash\0"),
            (VERSION, STRING, 1, b"5.2.26\0"),
            (RELEASE, STRING, 1, b"3.fc40\0"),
            (EPOCH, INT32, 1, &1u32.to_be_bytes()),
            (ARCH, STRING, 1, b"x86_64\0"),
            (LICENSE, STRING, 1, b"GPL-3.0-or-later\0"),
            (SOURCERPM, STRING, 1, b"bash-5.2.26-3.fc40.src.rpm\0"),
            (PROVIDENAME, STRING_ARRAY, 2, b"/bin/sh\0bash\0"),
            (BASENAMES, STRING_ARRAY, 3, b"bash\0sh\0bash\0"),
            (DIRNAMES, STRING_ARRAY, 2, b"/usr/bin/\0/usr/share/doc/\0"),
            (DIRINDEXES, INT32, 3, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ])
    }

    #[test]
    fn a_header_blob() {
        let r = record(&good()).unwrap();
        assert_eq!(
            (r.name.as_str(), r.epoch, r.version.as_str()),
            ("bash", Some(1), "5.2.26")
        );
        assert_eq!(r.files, ["usr/bin/bash", "usr/bin/sh", "usr/share/doc/bash"]);
        assert_eq!(r.provides, ["/bin/sh", "bash"]);
        let fedora = Distro {
            id: "fedora".into(),
            version_id: "40".into(),
            pretty_name: String::new(),
        };
        assert_eq!(
            purl(&r, Some(&fedora)),
            "pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40&epoch=1&upstream=bash-5.2.26-3.fc40.src.rpm"
        );
        let rhel = Distro {
            id: "rhel".into(),
            version_id: "9.4".into(),
            pretty_name: String::new(),
        };
        assert!(purl(&r, Some(&rhel)).starts_with("pkg:rpm/redhat/bash@"));
        assert!(purl(&r, None).starts_with("pkg:rpm/bash@5.2.26-3.fc40?"));
        let p = package_of(&r, Vec::new(), "db", None);
        assert_eq!(p.version, "1:5.2.26-3.fc40");
        assert_eq!(p.source_name.as_deref(), Some("bash"));
        assert_eq!(p.source_version.as_deref(), Some("1:5.2.26-3.fc40"));
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("python-requests-2.31.0-3.el9.src.rpm"),
            Some(("python-requests", "2.31.0", "3.el9"))
        );
        assert_eq!(split_source_rpm("x-1-2.nosrc.rpm"), Some(("x", "1", "2")));
        assert_eq!(split_source_rpm("elasticsearch-8.17.0-1-src.rpm"), None);
        assert_eq!(split_source_rpm("-1.src.rpm"), None);
    }

    #[test]
    fn corrupt_headers_are_errors_not_allocations() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0, 0, 0, 1], "too short"),
            (vec![0xff; 16], "out of range"),
            ([0u32.to_be_bytes(), 0u32.to_be_bytes()].concat(), "out of range"),
            (
                [0xffffu32.to_be_bytes(), 0x0fff_ffffu32.to_be_bytes()].concat(),
                "truncated",
            ),
            (blob(&[(NAME, STRING, 1, b"bash")]), "NUL"),
            (blob(&[(NAME, STRING_ARRAY, u32::MAX, b"a\0")]), "cannot fit"),
            (
                blob(&[
                    (NAME, STRING, 1, b"a\0"),
                    (VERSION, STRING, 1, b"1\0"),
                    (RELEASE, STRING, 1, b"1\0"),
                    (EPOCH, INT32, u32::MAX, &[0; 4]),
                ]),
                "past the data store",
            ),
            (blob(&[(NAME, INT32, 1, &[0; 4])]), "where a string was expected"),
            (blob(&[(NAME, STRING, 1, b"a\0")]), "without NAME, VERSION or RELEASE"),
        ];
        for (bytes, expected) in cases {
            let e = record(&bytes).unwrap_err();
            assert!(e.contains(expected), "{expected:?} not in {e:?}");
        }
        // An entry whose offset points past the data store.
        let mut b = blob(&[(NAME, STRING, 1, b"a\0")]);
        b[16..20].copy_from_slice(&100u32.to_be_bytes());
        assert!(record(&b).unwrap_err().contains("past the 2-byte data store"));
        // File lists that do not agree.
        let mut g = good();
        let last = g.len() - 1;
        g[last] = 9;
        assert!(record(&g).unwrap_err().contains("folder index 9"));
    }

    fn sqlite(setup: &str, blobs: &[&[u8]]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(setup).unwrap();
        for b in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b]).unwrap();
        }
        drop(conn);
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn databases_broken_in_every_way() {
        let table = "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);";
        let mut packages = sqlite(table, &[b"garbage", &good()]);
        // A text value where the blob belongs, as a hand-edited database might hold.
        {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("db");
            std::fs::write(&path, &packages).unwrap();
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute("INSERT INTO Packages (blob) VALUES ('text')", []).unwrap();
            drop(conn);
            packages = std::fs::read(&path).unwrap();
        }
        let contents: BTreeMap<PathBuf, Vec<u8>> = [
            (PathBuf::from(SQLITE_DBS[0]), packages),
            (PathBuf::from(SQLITE_DBS[1]), sqlite("CREATE TABLE Other (x);", &[])),
        ]
        .into();
        let rootfs = crate::image::Rootfs::default();
        let files = Files {
            contents: &contents,
            rootfs: &rootfs,
        };
        let mut problems = Vec::new();
        let found = catalog(&files, None, &mut problems);
        assert_eq!(found.len(), 1, "the good record after the bad one is read");
        assert_eq!(found[0].name, "bash");
        let all = format!("{problems:?}");
        for expected in [
            "var/lib/rpm/rpmdb.sqlite",
            "package record 1 skipped: header blob of 7 bytes is too short",
            "package record 3 skipped: blob",
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            "no Packages table",
        ] {
            assert!(all.contains(expected), "{expected:?} not in {all}");
        }

        let contents: BTreeMap<PathBuf, Vec<u8>> =
            [(PathBuf::from(SQLITE_DBS[0]), b"SQLite format 3\0 then nothing".to_vec())].into();
        let files = Files {
            contents: &contents,
            rootfs: &rootfs,
        };
        let mut problems = Vec::new();
        assert!(catalog(&files, None, &mut problems).is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.starts_with("rpm database not read: sqlite"),
            "{problems:?}"
        );
    }
}
