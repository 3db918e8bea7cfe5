//! Pinning: `sealkit lock FILE.yml` records the manifest digest and platform of every image a
//! configuration names (FILE.lock.json); later commands resolve through the lock and fail when an
//! image no longer matches it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::error::{Code, ImageError, Result};
use super::registry::{self, RegistryOptions};
use super::resolve::{Platform, ResolvedImage, resolve, resolve_manifest};
use super::store::Store;
use crate::config::Loaded;
use crate::party::Party;
use crate::reference::ImageRef;

pub const LOCK_SCHEMA: &str = "https://sealkit.dev/schemas/lock/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub schema: String,
    /// Reference as written in the configuration → what it was pinned to.
    pub images: BTreeMap<String, Pin>,
    /// What the configuration's SBOMs say about who made the OS image: kept with the pins
    /// because, like them, it decides the SBOM's bytes, and because LinuxKit's YAML has no place
    /// for it.
    #[serde(default, skip_serializing_if = "SbomSettings::is_empty")]
    pub sbom: SbomSettings,
}

/// Who supplies the OS image and who else made its SBOMs (`sealkit lock --supplier --creator`);
/// the same options of `sbom` and `build` override them for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SbomSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creators: Vec<Party>,
}

impl SbomSettings {
    pub fn is_empty(&self) -> bool {
        self.supplier.is_none() && self.creators.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The normalised reference (`docker.io/linuxkit/getty:…`, `oci:…`).
    pub resolved: String,
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub platform: String,
    /// The signatures the trust policy accepted when the lock was made: a later run under a
    /// trust policy refuses the image unless each of them verifies again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<PinnedSignature>,
}

/// One accepted signature, as the lock keeps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedSignature {
    /// `sha256:…` of the signed payload.
    pub payload: String,
    /// The id of the key that signed it (`sealkit keygen` prints it).
    pub key: String,
}

/// `demo.yml` → `demo.lock.json`.
pub fn lock_path(config: &Path) -> PathBuf {
    config.with_extension("lock.json")
}

impl Lock {
    pub fn read(path: &Path) -> Result<Option<Lock>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ImageError::io(path, e)),
        };
        let lock: Lock = serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::invalid(
                Code::Lock,
                path.display().to_string(),
                format!("not a sealkit lock file: {e}"),
                "run sealkit lock again",
            )
        })?;
        if lock.schema != LOCK_SCHEMA {
            return Err(ImageError::invalid(
                Code::Lock,
                path.display().to_string(),
                format!("unknown lock schema {}", lock.schema),
                "run sealkit lock again",
            ));
        }
        Ok(Some(lock))
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Every image reference of a configuration, in LinuxKit's order, each with the file that names
/// it (relative `oci:`/`dir:` paths start at that file's folder), de-duplicated.
pub fn references(loaded: &Loaded) -> Vec<(String, PathBuf)> {
    let config = &loaded.config;
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let mut push = |text: &str, section: &str, index: usize| {
        let base = folder_of(loaded.origins.file(section, index));
        if !out.iter().any(|(t, b)| t == text && *b == base) {
            out.push((text.to_owned(), base));
        }
    };
    if let Some(image) = config.kernel.as_ref().and_then(|k| k.image.as_ref()) {
        push(&image.value, "kernel", 0);
    }
    for (i, init) in config.init.iter().flatten().enumerate() {
        push(&init.value, "init", i);
    }
    for (section, list) in crate::config::validate::sections(config) {
        for (i, entry) in list.iter().enumerate() {
            if let Some(image) = &entry.value.image {
                push(&image.value, section, i);
            }
        }
    }
    for (i, volume) in config.volumes.iter().flatten().enumerate() {
        if let Some(image) = &volume.value.image {
            push(&image.value, "volumes", i);
        }
    }
    out
}

/// The folder relative paths in `file` start at.
pub fn folder_of(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Resolves references: local transports are imported, registry images come from the store
/// (pulled when `pull` is set and they are missing), and a lock, when given, pins each one.
pub struct Resolver {
    pub store: Store,
    pub platform: Platform,
    pub options: RegistryOptions,
    pub lock: Option<Lock>,
    pub pull: bool,
}

impl Resolver {
    /// A resolver that pins images by the lock of `config` (`FILE.lock.json`) when it has one.
    pub fn for_config(store: Store, platform: Platform, options: RegistryOptions, config: &Path) -> Result<Self> {
        Ok(Resolver {
            store,
            platform,
            options,
            lock: Lock::read(&lock_path(config))?,
            pull: false,
        })
    }

    /// Resolves `text` as written in a configuration file in the folder `base`.
    pub fn resolve(&self, text: &str, base: &Path) -> Result<ResolvedImage> {
        self.resolve_telling(text, base, &crate::progress::Silent)
    }

    /// [`Resolver::resolve`], telling `progress` the bytes of what it pulls.
    pub fn resolve_telling(
        &self,
        text: &str,
        base: &Path,
        progress: &dyn crate::progress::Progress,
    ) -> Result<ResolvedImage> {
        let reference: ImageRef = text.parse().map_err(|e: crate::reference::ReferenceError| {
            ImageError::invalid(Code::BadReference, text, e.message, e.hint)
        })?;
        let pin = self.lock.as_ref().and_then(|l| l.images.get(text));
        let store = &self.store;
        let resolved = match (&reference, pin) {
            // A pinned registry image is taken by digest, so a moved tag cannot change it.
            (ImageRef::Registry(r), Some(pin)) => {
                let digest: Digest = pin.manifest.parse().map_err(|e: super::digest::BadDigest| {
                    ImageError::invalid(Code::Lock, text, e.to_string(), "run sealkit lock again")
                })?;
                match resolve_manifest(store, text, &digest, &self.platform)? {
                    // The index the lock recorded is what the reference named, and what its
                    // signatures sign.
                    Some(mut image) => {
                        image.index_digest = pin.index.as_ref().and_then(|d| d.parse().ok());
                        image
                    }
                    None if self.pull => registry::pull(
                        store,
                        &r.clone_with_digest(pin.manifest.clone()),
                        &self.platform,
                        &self.options,
                        progress,
                    )?,
                    None => {
                        return Err(store.not_found(
                            &format!("{text} ({})", pin.manifest),
                            &format!("pull it (sealkit image pull {}@{})", r.whole(), pin.manifest),
                        ));
                    }
                }
            }
            (ImageRef::Registry(r), None) => match resolve(store, &reference, &self.platform, base) {
                Err(ImageError::NotFound { .. }) if self.pull => {
                    registry::pull(store, r, &self.platform, &self.options, progress)?
                }
                other => other?,
            },
            _ => resolve(store, &reference, &self.platform, base)?,
        };
        if let Some(pin) = pin
            && pin.manifest != resolved.manifest_digest.to_string()
        {
            return Err(ImageError::invalid(
                Code::Lock,
                text,
                format!(
                    "the lock pins {}, but the image is now {}",
                    pin.manifest, resolved.manifest_digest
                ),
                "if the change is intended, run sealkit lock again and review the difference",
            ));
        }
        Ok(resolved)
    }

    /// Pins every reference of `loaded`.
    pub fn lock(&self, loaded: &Loaded) -> Result<Lock> {
        self.lock_with(loaded, |_, _, _| Ok(Vec::new()))
    }

    /// Pins every reference of `loaded`, each image resolved once: `signatures` is given it (the
    /// reference as written, its base folder, what it resolved to) and says which verified
    /// signatures its pin records.
    pub fn lock_with(
        &self,
        loaded: &Loaded,
        mut signatures: impl FnMut(&str, &Path, &ResolvedImage) -> Result<Vec<PinnedSignature>>,
    ) -> Result<Lock> {
        let mut images = BTreeMap::new();
        for (text, base) in references(loaded) {
            let resolved = self.resolve(&text, &base)?;
            let signatures = signatures(&text, &base, &resolved)?;
            let normalised = text
                .parse::<ImageRef>()
                .map(|r| r.to_string())
                .unwrap_or_else(|_| text.clone());
            images.insert(
                text,
                Pin {
                    resolved: normalised,
                    manifest: resolved.manifest_digest.to_string(),
                    index: resolved.index_digest.as_ref().map(Digest::to_string),
                    platform: resolved.platform.to_string(),
                    signatures,
                },
            );
        }
        Ok(Lock {
            schema: LOCK_SCHEMA.into(),
            images,
            sbom: SbomSettings::default(),
        })
    }
}
