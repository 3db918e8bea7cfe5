//! Where the artifacts and bundles to verify come from: a local output folder or file. A
//! registry artifact is pulled into a folder first (`publish::pull`) and verified as that
//! folder, so that one code path judges every image.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::VerifyError;
use crate::attest::{self, BUNDLE_SUFFIX, bundle::MAX_BUNDLE_BYTES};
use crate::image::digest::Digest;

/// The files to verify, by name.
pub struct Artifacts {
    pub files: BTreeMap<String, Digest>,
    /// The files are the whole of what was attested (an output folder, a registry artifact):
    /// every file must be accounted for, and every subject must name one of them. Otherwise
    /// they are one file picked from a folder, and statements about its neighbours are ignored.
    pub complete: bool,
}

/// A bundle's name (for messages) and its bytes, unparsed.
pub struct RawBundle {
    pub name: String,
    pub bytes: Vec<u8>,
}

pub trait Source {
    /// What is verified, for messages and the result.
    fn target(&self) -> String;
    fn artifacts(&self) -> Result<Artifacts, VerifyError>;
    /// Every bundle offered: each must verify.
    fn bundles(&self) -> Result<Vec<RawBundle>, VerifyError>;
}

/// An output folder, or one file of it, on this machine.
pub struct Local {
    path: PathBuf,
    folder: bool,
    /// Bundles named on the command line, instead of those found beside the target.
    bundles: Vec<PathBuf>,
    /// What the result calls the target, when not its path (a registry artifact pulled here).
    label: Option<String>,
}

impl Local {
    /// `path` is an output folder or a file; `bundles`, when not empty, are the only bundles
    /// read.
    pub fn open(path: &Path, bundles: Vec<PathBuf>) -> Result<Local, VerifyError> {
        let meta = std::fs::metadata(path).map_err(|e| {
            VerifyError::target(
                path,
                format!("cannot be read ({e})"),
                "pass an output folder or an image file",
            )
        })?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(VerifyError::target(
                path,
                "is neither a file nor a folder",
                "pass an output folder or an image file",
            ));
        }
        Ok(Local {
            path: path.to_owned(),
            folder: meta.is_dir(),
            bundles,
            label: None,
        })
    }

    /// The same source, called `label` in messages and the result.
    pub fn labelled(self, label: String) -> Local {
        Local {
            label: Some(label),
            ..self
        }
    }

    /// The folder the image's files are in.
    pub fn folder(&self) -> &Path {
        if self.folder {
            &self.path
        } else {
            self.path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        }
    }

    /// The names of the folder's entries, sorted; anything but a regular file is an error, as
    /// an output folder holds only files.
    fn entries(&self) -> Result<Vec<String>, VerifyError> {
        let dir = self.folder();
        let unreadable =
            |e: std::io::Error| VerifyError::target(dir, format!("cannot be listed ({e})"), "check its permissions");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type().map_err(unreadable)?.is_file() {
                if self.folder {
                    return Err(VerifyError::target(
                        &entry.path(),
                        "is not a regular file; an output folder holds only files",
                        "remove it, or verify the image file alone",
                    ));
                }
                continue;
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }
}

fn digest(path: &Path) -> Result<Digest, VerifyError> {
    attest::file_digest(path).map_err(VerifyError::Bundle)
}

impl Source for Local {
    fn target(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.path.display().to_string())
    }

    fn artifacts(&self) -> Result<Artifacts, VerifyError> {
        let mut files = BTreeMap::new();
        if self.folder {
            for name in self.entries()? {
                if !name.ends_with(BUNDLE_SUFFIX) {
                    files.insert(name.clone(), digest(&self.path.join(&name))?);
                }
            }
        } else {
            let name = self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.insert(name, digest(&self.path)?);
        }
        Ok(Artifacts {
            files,
            complete: self.folder,
        })
    }

    fn bundles(&self) -> Result<Vec<RawBundle>, VerifyError> {
        let paths: Vec<PathBuf> = if self.bundles.is_empty() {
            let dir = self.folder();
            self.entries()?
                .into_iter()
                .filter(|n| n.ends_with(BUNDLE_SUFFIX))
                .map(|n| dir.join(n))
                .collect()
        } else {
            self.bundles.clone()
        };
        paths.iter().map(|p| read_bundle(p)).collect()
    }
}

/// A bundle file's bytes, read up to one byte past the bound so that parsing can refuse it.
fn read_bundle(path: &Path) -> Result<RawBundle, VerifyError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| VerifyError::Bundle(attest::AttestError::io(&origin, &e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| VerifyError::Bundle(attest::AttestError::io(&origin, &e)))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(origin);
    Ok(RawBundle { name, bytes })
}
