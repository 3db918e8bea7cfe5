//! The configuration's `files:` section as the image will hold it: the secrets in what it writes
//! (contents written inline, and the host files `source:` copies) found as in any image file,
//! and the inline contents redacted, so that the evidence never repeats a secret the
//! configuration holds.

use std::io::{self, Read};
use std::path::Path;

use crate::config::model::{File as FileSpec, S};
use crate::config::{FILE_SOURCE_LIMIT, FileSourceError, Loaded, file_source_path, open_file_source};
use crate::image::rootfs::{ContentRef, Tap};

use super::secrets::{SecretScanner, Secrets};

/// Inline contents that cannot be shown: some of their secrets were past the per-file limit.
pub const WITHHELD: &str = "(withheld: more secrets than are listed; see files_secrets)";

pub struct FilesSection {
    /// The entries as written, but each `contents` with its secrets replaced by `*****`.
    pub entries: Vec<S<FileSpec>>,
    /// Secrets in what the entries write, under the paths they write it to.
    pub secrets: Secrets,
}

pub fn inspect_files_section(loaded: &Loaded) -> FilesSection {
    let mut scanner = SecretScanner::new();
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
            if let Err(reason) = scan_source(&mut scanner, &host, Path::new(&in_image), at) {
                notes.push((
                    in_image.clone(),
                    format!("source {} not scanned: {reason}", host.display()),
                ));
            }
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
    FilesSection { entries, secrets }
}

/// Streams a host file through the scanner as the image file `path`, opened by the build's
/// rules for a source (`config::open_file_source`).
fn scan_source(scanner: &mut SecretScanner, host: &Path, path: &Path, at: ContentRef) -> Result<(), String> {
    let mut file = open_file_source(host).map_err(|e| match e {
        FileSourceError::Unreadable(e) => e.to_string(),
        FileSourceError::NotRegular(_) => "not a regular file".to_owned(),
        FileSourceError::TooLarge => format!("larger than {FILE_SOURCE_LIMIT} bytes"),
    })?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !scanner.begin(path, meta.len(), at) {
        return Ok(());
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut left = FILE_SOURCE_LIMIT;
    let read = loop {
        match file.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) if n as u64 > left => break Err(format!("grew past {FILE_SOURCE_LIMIT} bytes")),
            Ok(n) => {
                left -= n as u64;
                scanner.chunk(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e.to_string()),
        }
    };
    scanner.end();
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
