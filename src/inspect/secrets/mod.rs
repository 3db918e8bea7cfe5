//! Secrets: private keys, cloud and VCS tokens, high-entropy passwords, and credential files,
//! found in one streaming pass over every regular file's bytes (docs/secrets.md).
//!
//! [`SecretScanner`] is a [`Tap`]: it rides on the flattening pass, or is fed a folder's files
//! ([`SecretScanner::scan_tree`]). Findings carry trivy's rule ids, a line and a redacted
//! excerpt, never the secret itself.

mod rules;
mod stream;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;

use crate::image::Rootfs;
use crate::image::rootfs::{ContentRef, Tap};
use rules::{CREDENTIAL_FILE, GENERIC_SECRET, PATTERNS};
pub use rules::{RULES, Rule, Severity, credential_file};
use stream::{FileScan, MAX_FINDINGS, RawFinding};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SecretFinding {
    pub path: String,
    /// 1-based, where the match begins (a private key's BEGIN line); `None` for a finding about
    /// the file's name, and in binary files.
    pub line: Option<u64>,
    pub rule: &'static str,
    pub category: &'static str,
    pub severity: Severity,
    /// The match's context with every secret in it replaced by `*****` (for a file name: the
    /// reason the name is suspect).
    pub excerpt: String,
    /// The file is in a lower layer and a later layer deleted or replaced it: it is not in the
    /// flattened filesystem, but still in the image's layers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// A file that was not scanned, or not fully reported, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SecretNote {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Secrets {
    /// In path order, then line.
    pub findings: Vec<SecretFinding>,
    pub notes: Vec<SecretNote>,
    /// Regular files whose bytes were scanned, and how many of them were binary (scanned for
    /// private keys only).
    pub files: u64,
    pub binary_files: u64,
    pub bytes: u64,
}

/// What one file's content showed; the path is where it was seen (a rootfs may give the same
/// content more names, or hide it).
struct Seen {
    path: String,
    findings: Vec<Content>,
    notes: Vec<String>,
}

impl Seen {
    fn new(path: &Path) -> Seen {
        Seen {
            path: path.to_string_lossy().into_owned(),
            findings: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// A content finding without its path.
struct Content {
    rule: &'static Rule,
    line: Option<u64>,
    excerpt: String,
}

/// Scans every file it is shown; see the module documentation.
#[derive(Default)]
pub struct SecretScanner {
    current: Option<(ContentRef, String, FileScan)>,
    seen: BTreeMap<ContentRef, Seen>,
    /// Paths seen whose name makes them credential files, for [`SecretScanner::finish`].
    named: BTreeMap<ContentRef, String>,
    files: u64,
    binary_files: u64,
    bytes: u64,
    largest_buffer: usize,
}

impl SecretScanner {
    pub fn new() -> SecretScanner {
        SecretScanner::default()
    }

    /// Scans every regular file under `root` (symlinks are not followed), paths relative to it.
    /// A file or folder that cannot be read becomes a note; only an unreadable `root` is an error.
    pub fn scan_tree(&mut self, root: &Path) -> io::Result<()> {
        let mut ordinal = 0;
        let mut next = || {
            ordinal += 1;
            ContentRef {
                layer: 0,
                ordinal: ordinal - 1,
            }
        };
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
                Err(e) if dir == root => return Err(e),
                Err(e) => {
                    self.note(next(), &relative(root, &dir), format!("unreadable folder: {e}"));
                    continue;
                }
            };
            entries.sort();
            for path in entries.into_iter().rev() {
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.is_dir() {
                    pending.push(path);
                } else if meta.is_file() {
                    let at = next();
                    let relative = relative(root, &path);
                    if let Err(e) = File::open(&path).and_then(|f| self.scan_file(&relative, meta.len(), at, f)) {
                        self.note(at, &relative, format!("unreadable: {e}"));
                    }
                }
            }
        }
        Ok(())
    }

    /// One file's bytes from `reader`, shown as the flattening pass shows them.
    fn scan_file(&mut self, path: &Path, size: u64, at: ContentRef, mut reader: impl Read) -> io::Result<()> {
        if !self.begin(path, size, at) {
            return Ok(());
        }
        let mut buf = vec![0u8; 64 << 10];
        let result = loop {
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => self.chunk(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.end();
        result
    }

    /// Scans text held in memory that the image will hold as file `path` (a `files:` entry's
    /// contents), as a file's bytes are scanned, and returns the text with every secret in it
    /// replaced by `*****`; `None` when some were past [`MAX_FINDINGS`] and not located, so no
    /// text is safe to show.
    pub fn scan_text(&mut self, path: &Path, text: &str, at: ContentRef) -> Option<String> {
        if !self.begin(path, text.len() as u64, at) {
            return Some(text.to_owned());
        }
        self.chunk(text.as_bytes());
        let (at, path, mut scan) = self.current.take()?;
        scan.finish();
        let redacted = (scan.dropped == 0).then(|| {
            let mut secrets: Vec<(u64, u64)> = scan.findings.iter().map(|f| f.secret).collect();
            secrets.sort_unstable();
            mask(text.as_bytes(), &secrets)
        });
        self.keep(at, path, scan);
        redacted
    }

    fn note(&mut self, at: ContentRef, path: &Path, reason: String) {
        self.seen
            .entry(at)
            .or_insert_with(|| Seen::new(path))
            .notes
            .push(reason);
    }

    /// The most bytes one file's scan held at once, over every file so far.
    pub fn largest_buffer(&self) -> usize {
        self.largest_buffer
    }

    /// The findings under the paths the files were shown with.
    pub fn finish(mut self) -> Secrets {
        let mut findings: Vec<SecretFinding> = self.named.values().filter_map(|p| name_finding(p)).collect();
        let mut notes = Vec::new();
        for seen in std::mem::take(&mut self.seen).values() {
            report(seen, &seen.path, false, &mut findings, &mut notes);
        }
        self.collect(findings, notes)
    }

    /// The findings under the paths of the flattened filesystem `rootfs` the files came from:
    /// every name of a hard-linked file, each file named as a credential file, and content
    /// no path reaches any more (a lower layer's file, deleted or replaced) marked hidden.
    /// Scanners of different threads saw different files: what they saw adds up.
    pub fn merge(mut self, other: SecretScanner) -> SecretScanner {
        self.seen.extend(other.seen);
        self.named.extend(other.named);
        self.files += other.files;
        self.binary_files += other.binary_files;
        self.bytes += other.bytes;
        self.largest_buffer = self.largest_buffer.max(other.largest_buffer);
        self
    }

    pub fn finish_in(mut self, rootfs: &Rootfs) -> Secrets {
        let mut findings = Vec::new();
        let mut notes = Vec::new();
        let mut reached = std::collections::BTreeSet::new();
        for (path, entry) in rootfs.files() {
            let path = path.to_string_lossy();
            findings.extend(name_finding(&path));
            if let Some(at) = entry.content
                && let Some(seen) = self.seen.get(&at)
            {
                reached.insert(at);
                report(seen, &path, false, &mut findings, &mut notes);
            }
        }
        for (at, seen) in std::mem::take(&mut self.seen) {
            if !reached.contains(&at) {
                report(&seen, &seen.path, true, &mut findings, &mut notes);
            }
        }
        self.collect(findings, notes)
    }

    fn collect(self, mut findings: Vec<SecretFinding>, mut notes: Vec<SecretNote>) -> Secrets {
        findings.sort();
        findings.dedup();
        notes.sort();
        notes.dedup();
        Secrets {
            findings,
            notes,
            files: self.files,
            binary_files: self.binary_files,
            bytes: self.bytes,
        }
    }
}

/// `bytes` with each of the sorted, possibly overlapping, ranges `secrets` replaced by `*****`.
fn mask(bytes: &[u8], secrets: &[(u64, u64)]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for &(start, end) in secrets {
        let (start, end) = (start as usize, (end as usize).min(bytes.len()));
        if end <= at {
            continue;
        }
        if start > at {
            out.extend_from_slice(&bytes[at..start]);
        }
        out.extend_from_slice(b"*****");
        at = end;
    }
    out.extend_from_slice(&bytes[at..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn relative(root: &Path, path: &Path) -> std::path::PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

fn name_finding(path: &str) -> Option<SecretFinding> {
    let what = credential_file(path)?;
    Some(SecretFinding {
        path: path.to_owned(),
        line: None,
        rule: CREDENTIAL_FILE.id,
        category: CREDENTIAL_FILE.category,
        severity: CREDENTIAL_FILE.severity,
        excerpt: what.to_owned(),
        hidden: false,
    })
}

fn report(seen: &Seen, path: &str, hidden: bool, findings: &mut Vec<SecretFinding>, notes: &mut Vec<SecretNote>) {
    findings.extend(seen.findings.iter().map(|c| SecretFinding {
        path: path.to_owned(),
        line: c.line,
        rule: c.rule.id,
        category: c.rule.category,
        severity: c.rule.severity,
        excerpt: c.excerpt.clone(),
        hidden,
    }));
    notes.extend(seen.notes.iter().map(|reason| SecretNote {
        path: path.to_owned(),
        reason: reason.clone(),
    }));
}

impl Tap for SecretScanner {
    fn begin(&mut self, path: &Path, size: u64, at: ContentRef) -> bool {
        let path = path.to_string_lossy().into_owned();
        if credential_file(&path).is_some() {
            self.named.insert(at, path.clone());
        }
        if size == 0 {
            return false;
        }
        let scan = FileScan::new(&path);
        self.current = Some((at, path, scan));
        true
    }

    fn chunk(&mut self, bytes: &[u8]) {
        if let Some((_, _, scan)) = self.current.as_mut() {
            scan.push(bytes);
            self.bytes += bytes.len() as u64;
        }
    }

    fn end(&mut self) {
        let Some((at, path, mut scan)) = self.current.take() else {
            return;
        };
        scan.finish();
        self.keep(at, path, scan);
    }
}

impl SecretScanner {
    /// Records what a finished file's scan found.
    fn keep(&mut self, at: ContentRef, path: String, scan: FileScan) {
        self.files += 1;
        self.binary_files += u64::from(scan.is_binary());
        self.largest_buffer = self.largest_buffer.max(scan.largest_buffer());
        let dropped = scan.dropped;
        let contents = contents(&scan.findings);
        if contents.is_empty() && dropped == 0 {
            return;
        }
        let seen = self.seen.entry(at).or_insert_with(|| Seen::new(Path::new(&path)));
        seen.findings.extend(contents);
        if dropped > 0 {
            seen.notes.push(format!(
                "{dropped} more findings past the first {MAX_FINDINGS} are not listed"
            ));
        }
    }
}

/// A file's matches as findings: a generic match on a secret that a specific rule also
/// matched says nothing more, and is dropped.
fn contents(raw: &[RawFinding]) -> Vec<Content> {
    let specific: Vec<(u64, u64)> = raw
        .iter()
        .filter(|f| !std::ptr::eq(PATTERNS[f.pattern].rule, &GENERIC_SECRET))
        .map(|f| f.secret)
        .collect();
    raw.iter()
        .filter(|f| {
            !std::ptr::eq(PATTERNS[f.pattern].rule, &GENERIC_SECRET)
                || !specific.iter().any(|&(s, e)| s < f.secret.1 && e > f.secret.0)
        })
        .map(|f| Content {
            rule: PATTERNS[f.pattern].rule,
            line: f.line,
            excerpt: stream::excerpt(f, raw),
        })
        .collect()
}
