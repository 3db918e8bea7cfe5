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
use crate::config::Config;
use crate::reference::ImageRef;

pub const LOCK_SCHEMA: &str = "https://sealkit.dev/schemas/lock/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub schema: String,
    /// Reference as written in the configuration → what it was pinned to.
    pub images: BTreeMap<String, Pin>,
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

/// Every image reference of a configuration, in LinuxKit's order, de-duplicated.
pub fn references(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    if let Some(image) = config.kernel.as_ref().and_then(|k| k.image.as_ref()) {
        push(&image.value);
    }
    for init in config.init.iter().flatten() {
        push(&init.value);
    }
    for (_, list) in crate::config::validate::sections(config) {
        for entry in list {
            if let Some(image) = &entry.value.image {
                push(&image.value);
            }
        }
    }
    for volume in config.volumes.iter().flatten() {
        if let Some(image) = &volume.value.image {
            push(&image.value);
        }
    }
    out
}

/// Resolves references for one configuration: local transports are imported, registry images
/// come from the store (pulled when `pull` is set and they are missing), and a lock, when given,
/// pins each one.
pub struct Resolver<'a> {
    pub store: &'a Store,
    pub platform: Platform,
    pub options: RegistryOptions,
    /// The configuration file's folder: relative `oci:`/`dir:` paths start there.
    pub base: PathBuf,
    pub lock: Option<Lock>,
    pub pull: bool,
}

impl Resolver<'_> {
    pub fn resolve(&self, text: &str) -> Result<ResolvedImage> {
        let reference: ImageRef = text
            .parse()
            .map_err(|e: super::ReferenceError| ImageError::invalid(Code::BadReference, text, e.message, e.hint))?;
        let pin = self.lock.as_ref().and_then(|l| l.images.get(text));
        let resolved = match (&reference, pin) {
            // A pinned registry image is taken by digest, so a moved tag cannot change it.
            (ImageRef::Registry(r), Some(pin)) => {
                let digest: Digest = pin.manifest.parse().map_err(|e: super::digest::BadDigest| {
                    ImageError::invalid(Code::Lock, text, e.to_string(), "run sealkit lock again")
                })?;
                match resolve_manifest(self.store, text, &digest, &self.platform)? {
                    Some(image) => image,
                    None if self.pull => registry::pull(
                        self.store,
                        &r.clone_with_digest(pin.manifest.clone()),
                        &self.platform,
                        &self.options,
                    )?,
                    None => {
                        return Err(self.store.not_found(
                            &format!("{text} ({})", pin.manifest),
                            &format!("pull it (sealkit image pull {}@{})", r.whole(), pin.manifest),
                        ));
                    }
                }
            }
            (ImageRef::Registry(r), None) => match resolve(self.store, &reference, &self.platform, &self.base) {
                Err(ImageError::NotFound { .. }) if self.pull => {
                    registry::pull(self.store, r, &self.platform, &self.options)?
                }
                other => other?,
            },
            _ => resolve(self.store, &reference, &self.platform, &self.base)?,
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

    /// Pins every reference of `config`.
    pub fn lock(&self, config: &Config) -> Result<Lock> {
        let mut images = BTreeMap::new();
        for text in references(config) {
            let resolved = self.resolve(&text)?;
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
                },
            );
        }
        Ok(Lock {
            schema: LOCK_SCHEMA.into(),
            images,
        })
    }
}
