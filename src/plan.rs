//! The planning step: every image a configuration names is resolved once, relative to the file
//! that names it, through the lock; each container's effective runtime configuration is computed
//! from those images; and each image is given its place in the OS image. Every later stage
//! (inspect, build, SBOM, config --effective) takes this plan and resolves nothing itself.
//!
//! Places follow LinuxKit: the kernel and init images at the root, each volume's image in
//! `containers/volumes/NAME/lower/`, and each container's image in its bundle
//! (`containers/onboot/000-NAME/lower/`, or `rootfs/` when read-only) — once per image: later
//! containers of the same image bind the first copy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::Loaded;
use crate::config::label::{LABEL_KEY, LabelDir, parse_label};
use crate::config::model::VolumeFormat;
use crate::effective::{self, Component, EffectiveError, ImageDefaults, ImageFacts, VOLUMES_DIR};
use crate::image::lock::{Resolver, folder_of, references};
use crate::image::{ImageError, Platform, ResolvedImage};
use crate::reference::ImageRef;
use crate::trust;

crate::error_codes! {
    VolumePlatform = "volume-platform": "An OCI volume asks for a platform other than the build's.",
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Image(Box<ImageError>),
    #[error("{0}")]
    Effective(#[from] EffectiveError),
    #[error("{what}: {message}\n  hint: {hint}")]
    Input {
        code: Code,
        what: String,
        message: String,
        hint: String,
    },
}

impl From<ImageError> for PlanError {
    fn from(e: ImageError) -> Self {
        PlanError::Image(Box::new(e))
    }
}

impl PlanError {
    /// The stable code of the underlying error (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::Image(e) => e.code(),
            PlanError::Effective(e) => e.code.as_str(),
            PlanError::Input { code, .. } => code.as_str(),
        }
    }
}

/// One image whose files are part of the OS image.
pub struct ImageUse {
    /// Where the configuration names it, in LinuxKit's words: `kernel`, `init[0]`, `volume[0]`,
    /// `onboot[1]`, `services[2]`.
    pub location: String,
    /// A name for people (`services/sshd sealkit-fixtures/sshd:1`).
    pub name: String,
    /// The reference as written.
    pub reference: String,
    pub image: ResolvedImage,
    /// Prepended to each of its paths: empty for the kernel and init images.
    pub prefix: String,
}

pub struct Plan {
    pub platform: Platform,
    /// Every container's effective configuration, in LinuxKit's order.
    pub containers: Vec<Component>,
    /// The images to unpack, in LinuxKit's order: kernel, init, volumes, containers.
    pub images: Vec<ImageUse>,
    /// Volumes in `format: oci`, by their index in `volumes`: each image is written as an OCI
    /// layout, not unpacked.
    pub layouts: Vec<(usize, ResolvedImage)>,
    /// References not in the store, when they were allowed to be missing: their containers'
    /// configurations rest on the YAML, a `--label-dir` label and defaults.
    pub missing: Vec<String>,
    /// Each resolved reference's signatures and, with a trust policy, its verdict, by the
    /// reference as written; sorted.
    pub trust: BTreeMap<String, trust::Finding>,
    /// Whether a trust policy judged the images.
    pub trust_policy: Option<PathBuf>,
}

impl Plan {
    /// The references the trust policy refused, with why: nothing of them may be used.
    pub fn refused(&self) -> Vec<(&str, String)> {
        self.trust
            .iter()
            .filter(|(_, f)| f.refused())
            .map(|(r, f)| (r.as_str(), f.why()))
            .collect()
    }
}

/// How to plan: what a plan may do without (images missing from the store, whose labels may
/// come from LinuxKit package folders instead), and the trust policy images are judged by.
#[derive(Default)]
pub struct PlanOptions<'a> {
    pub missing_images: bool,
    pub label_dirs: &'a [LabelDir],
    pub trust: Option<&'a trust::Policy>,
    /// Told of each image resolved (pulled, when the resolver pulls).
    pub progress: Option<&'a dyn crate::progress::Progress>,
}

/// Resolves every image of `loaded` once and plans the OS image. Missing images are an error
/// unless `allow.missing_images`; then they are listed in `Plan::missing` and left out of
/// `images`.
pub fn plan(loaded: &Loaded, resolver: &Resolver, allow: &PlanOptions) -> Result<Plan, PlanError> {
    let mut resolved: BTreeMap<(String, PathBuf), ResolvedImage> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut findings = BTreeMap::new();
    let progress = allow.progress.unwrap_or(&crate::progress::Silent);
    for (text, base) in references(loaded) {
        match resolver.resolve_telling(&text, &base, progress) {
            Ok(image) => {
                let reference: ImageRef = text.parse().map_err(|e: crate::reference::ReferenceError| {
                    ImageError::invalid(crate::image::Code::BadReference, &text, e.message, e.hint)
                })?;
                let pinned = resolver
                    .lock
                    .as_ref()
                    .and_then(|l| l.images.get(&text))
                    .map_or(&[][..], |p| &p.signatures[..]);
                let finding = trust::examine(allow.trust, &resolver.store, &reference, &base, &image, pinned)?;
                findings.insert(text.clone(), finding);
                resolved.insert((text, base), image);
                progress.advance(1, 0, 0);
            }
            Err(ImageError::NotFound { .. }) if allow.missing_images => missing.push(text),
            Err(e) => return Err(e.into()),
        }
    }
    let lookup = |text: &str, file: &Path| resolved.get(&(text.to_owned(), folder_of(file)));
    let facts = |text: &str, file: &Path| -> Result<ImageFacts, String> {
        match lookup(text, file) {
            Some(image) => Ok(ImageFacts {
                label: match image.labels().get(LABEL_KEY) {
                    Some(json) => {
                        Some(parse_label(json, &format!("{text} ({LABEL_KEY} label)")).map_err(|e| e.to_string())?)
                    }
                    None => None,
                },
                defaults: Some(ImageDefaults::of(image)),
            }),
            None => Ok(ImageFacts {
                label: allow.label_dirs.iter().find_map(|d| d.find_text(text)).cloned(),
                defaults: None,
            }),
        }
    };
    let containers = effective::compute(loaded, &facts)?;

    let config = &loaded.config;
    let origins = &loaded.origins;
    let mut images = Vec::new();
    let mut add = |location: String, name: String, text: &str, file: &Path, prefix: String| {
        if let Some(image) = lookup(text, file) {
            images.push(ImageUse {
                image: image.clone(),
                location,
                name,
                reference: text.to_owned(),
                prefix,
            });
        }
    };
    if let Some(kernel) = config.kernel.as_ref().and_then(|k| k.image.as_ref()) {
        add(
            "kernel".into(),
            format!("kernel {}", kernel.value),
            &kernel.value,
            origins.file("kernel", 0),
            String::new(),
        );
    }
    for (i, reference) in config.init.iter().flatten().enumerate() {
        add(
            format!("init[{i}]"),
            format!("init[{i}] {}", reference.value),
            &reference.value,
            origins.file("init", i),
            String::new(),
        );
    }
    let mut layouts = Vec::new();
    for (i, volume) in config.volumes.iter().flatten().enumerate() {
        let volume = &volume.value;
        let (Some(name), Some(image)) = (&volume.name, &volume.image) else {
            continue;
        };
        let file = origins.file("volumes", i);
        if volume.format == Some(VolumeFormat::Oci) {
            // The store keeps the one platform an image was resolved for.
            for wanted in volume.platforms.iter().flatten() {
                if wanted.parse::<Platform>().ok().as_ref() != Some(&resolver.platform) {
                    return Err(PlanError::Input {
                        code: Code::VolumePlatform,
                        what: format!("{}: volumes[{i}] ({})", file.display(), image.value),
                        message: format!(
                            "platform {wanted} is asked for, but this build holds only {}",
                            resolver.platform
                        ),
                        hint: "list only the build's platform (--platform), or leave platforms out".into(),
                    });
                }
            }
            if let Some(resolved) = lookup(&image.value, file) {
                layouts.push((i, resolved.clone()));
            }
            continue;
        }
        add(
            format!("volume[{i}]"),
            format!("volumes/{} {}", name.value, image.value),
            &image.value,
            file,
            format!("{}/{}/lower/", VOLUMES_DIR.trim_start_matches('/'), name.value),
        );
    }
    let mut seen = BTreeSet::new();
    for c in &containers {
        // The same key as the bundle mounts' (`redis` and `docker.io/library/redis` are one).
        let key = c
            .image
            .parse::<ImageRef>()
            .map_or_else(|_| c.image.clone(), |r| r.to_string());
        if !seen.insert(key) {
            continue;
        }
        let root = if c.config.root.readonly { "rootfs" } else { "lower" };
        add(
            format!("{}[{}]", c.section, c.index),
            format!("{}/{} {}", c.section, c.name, c.image),
            &c.image,
            origins.file(c.section, c.index),
            format!("{}/{root}/", c.path),
        );
    }
    Ok(Plan {
        platform: resolver.platform.clone(),
        containers,
        images,
        layouts,
        missing,
        trust: findings,
        trust_policy: allow.trust.map(|p| p.file.clone()),
    })
}
