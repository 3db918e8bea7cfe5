//! The configuration's `files:` section as the image will hold it: the secrets in what it writes
//! (contents written inline, and the host files `source:` copies) found as in any image file,
//! and the inline contents redacted, so that the evidence never repeats a secret the
//! configuration holds.
//!
//! Each source is read once, here: a caller's tap sees the same bytes the scanner does, so a
//! build that takes them from the tap (`build::unpack`) holds what was judged even if the host
//! file changes afterwards.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use crate::config::model::{File as FileSpec, S};
use crate::config::{FILE_SOURCE_LIMIT, FileSourceError, Loaded, file_source_path, open_file_source};
use crate::image::rootfs::{Both, ContentRef, NoTap, Tap};

use super::secrets::{SecretScanner, Secrets};

/// Inline contents that cannot be shown: some of their secrets were past the per-file limit.
pub const WITHHELD: &str = "(withheld: more secrets than are listed; see files_secrets)";

pub struct FilesSection {
    /// The entries as written, but each `contents` with its secrets replaced by `*****`.
    pub entries: Vec<S<FileSpec>>,
    /// Secrets in what the entries write, under the paths they write it to.
    pub secrets: Secrets,
    /// How each `source:` entry's read ended, by the entry's index. Its bytes went to the
    /// caller's tap as they were scanned, as the file `ContentRef { layer: 0, ordinal: index }`.
    pub sources: BTreeMap<usize, Result<(), SourceFailure>>,
}

/// Why a files entry's source was not read whole.
#[derive(Debug)]
pub enum SourceFailure {
    /// It cannot be opened by the build's rules (`config::open_file_source`).
    Open(FileSourceError),
    /// It grew past [`FILE_SOURCE_LIMIT`] while it was read.
    Grew,
    /// Reading it failed half-way.
    Read(io::Error),
}

impl SourceFailure {
    fn reason(&self) -> String {
        match self {
            SourceFailure::Open(FileSourceError::Unreadable(e)) | SourceFailure::Read(e) => e.to_string(),
            SourceFailure::Open(FileSourceError::NotRegular(_)) => "not a regular file".to_owned(),
            SourceFailure::Open(FileSourceError::TooLarge) => format!("larger than {FILE_SOURCE_LIMIT} bytes"),
            SourceFailure::Grew => format!("grew past {FILE_SOURCE_LIMIT} bytes"),
        }
    }
}

/// The files section's facts, each source read from the host.
pub fn inspect_files_section(loaded: &Loaded) -> FilesSection {
    inspect_files_section_tapped(loaded, &mut NoTap)
}

/// As [`inspect_files_section`], showing every source's bytes to `tap` in the same read.
pub fn inspect_files_section_tapped(loaded: &Loaded, tap: &mut dyn Tap) -> FilesSection {
    let mut scanner = SecretScanner::new();
    let mut sources = BTreeMap::new();
    let mut notes = Vec::new();
    let mut entries = Vec::new();
    for (index, spec) in loaded.config.files.iter().flatten().enumerate() {
        let mut entry = spec.clone();
        let at = ContentRef {
            layer: 0,
            ordinal: index as u64,
        };
        let in_image = entry
            .value
            .path
            .as_ref()
            .map_or_else(String::new, |p| p.value.trim_start_matches('/').to_owned());
        if let Some(contents) = &entry.value.contents {
            let redacted = scanner.scan_text(Path::new(&in_image), contents, at);
            entry.value.contents = Some(redacted.unwrap_or_else(|| WITHHELD.to_owned()));
        } else if let Some(source) = &entry.value.source {
            let host = file_source_path(source, loaded.origins.file("files", index));
            let mut both = Both::new(&mut scanner as &mut dyn Tap, &mut *tap);
            let read = read_source(&mut both, &host, Path::new(&in_image), at);
            if let Err(failure) = &read {
                notes.push((
                    in_image.clone(),
                    format!("source {} not scanned: {}", host.display(), failure.reason()),
                ));
            }
            sources.insert(index, read);
        }
        entries.push(entry);
    }
    let mut secrets = scanner.finish();
    secrets.notes.extend(
        notes
            .into_iter()
            .map(|(path, reason)| super::secrets::SecretNote { path, reason }),
    );
    secrets.notes.sort();
    FilesSection {
        entries,
        secrets,
        sources,
    }
}

/// Streams a host file through `tap` as the image file `path`, opened by the build's rules for
/// a source (`config::open_file_source`).
fn read_source(tap: &mut dyn Tap, host: &Path, path: &Path, at: ContentRef) -> Result<(), SourceFailure> {
    let mut file = open_file_source(host).map_err(SourceFailure::Open)?;
    let meta = file
        .metadata()
        .map_err(|e| SourceFailure::Open(FileSourceError::Unreadable(e)))?;
    if !tap.begin(path, meta.len(), at) {
        return Ok(());
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut left = FILE_SOURCE_LIMIT;
    let read = loop {
        match file.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) if n as u64 > left => break Err(SourceFailure::Grew),
            Ok(n) => {
                left -= n as u64;
                tap.chunk(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(SourceFailure::Read(e)),
        }
    };
    tap.end();
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(yaml: &str, files: &[(&str, &[u8])]) -> FilesSection {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let config = dir.path().join("image.yml");
        std::fs::write(&config, yaml).unwrap();
        let loaded = crate::config::load(std::slice::from_ref(&config)).unwrap();
        inspect_files_section(&loaded)
    }

    #[test]
    fn inline_secrets_are_found_and_redacted_and_sources_scanned_in_place() {
        let key = "AKIAIOSFODNN7REALKEY";
        let yaml = format!(
            "files:\n  - path: /etc/app/env\n    contents: \"user=app\\naws_key={key}\\n\"\n  - path: etc/app/deploy\n    source: deploy.env\n  - path: etc/app/plain\n    contents: nothing here\n  - path: etc/app/gone\n    source: missing.env\n    optional: true\n"
        );
        let s = section(
            &yaml,
            &[(
                "deploy.env",
                b"# deploy\nTOKEN=ghp_TESTONLYsealkitPlanted12345678901234\n",
            )],
        );
        assert_eq!(
            s.entries[0].value.contents.as_deref(),
            Some("user=app\naws_key=*****\n")
        );
        assert_eq!(s.entries[2].value.contents.as_deref(), Some("nothing here"));
        // A source stays a source: its bytes are the host's, never copied into the evidence.
        assert_eq!(s.entries[1].value.source.as_deref(), Some("deploy.env"));
        let found: Vec<_> = s
            .secrets
            .findings
            .iter()
            .map(|f| (f.path.as_str(), f.rule, f.line))
            .collect();
        assert_eq!(
            found,
            [
                ("etc/app/deploy", "github-pat", Some(2)),
                ("etc/app/env", "aws-access-key-id", Some(2)),
            ]
        );
        assert!(s.secrets.findings.iter().all(|f| !f.excerpt.contains(key)));
        assert_eq!(s.secrets.notes.len(), 1);
        assert_eq!(s.secrets.notes[0].path, "etc/app/gone");
        assert!(
            s.secrets.notes[0].reason.contains("missing.env not scanned"),
            "{:?}",
            s.secrets.notes
        );
    }

    #[test]
    fn a_source_that_is_not_a_regular_file_is_a_note_not_a_hang() {
        let s = section("files:\n  - path: etc/zero\n    source: /dev/zero\n", &[]);
        assert_eq!(s.secrets.findings, []);
        assert_eq!(
            s.secrets.notes[0].reason,
            "source /dev/zero not scanned: not a regular file"
        );
    }
}
