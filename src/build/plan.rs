//! Which images make an OS image and where each one's files go: the kernel and init images at
//! the root, each volume's image in `containers/volumes/NAME/lower/`, and each container's image
//! in its bundle (`containers/onboot/000-NAME/lower/` or `rootfs/` when read-only) — once per
//! image: later containers of the same image bind the first copy, as LinuxKit does.

use std::collections::BTreeSet;

use crate::config::Loaded;
use crate::config::model::VolumeFormat;
use crate::effective::{self, Component, VOLUMES_DIR};
use crate::image::ResolvedImage;
use crate::image::lock::Resolver;

use super::BuildError;

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
    /// Every container's effective configuration, in LinuxKit's order.
    pub containers: Vec<Component>,
    /// The images to unpack, in LinuxKit's order: kernel, init, volumes, containers.
    pub images: Vec<ImageUse>,
    /// Volumes in `format: oci`, by their index in `volumes`: each image is written as an OCI
    /// layout, not unpacked.
    pub layouts: Vec<(usize, ResolvedImage)>,
}

/// Resolves every image of `loaded` through `resolver` (and its lock) and computes each
/// container's runtime configuration.
pub fn plan(loaded: &Loaded, resolver: &Resolver) -> Result<Plan, BuildError> {
    let facts = |text: &str, _: &std::path::Path| effective::image_facts(resolver, text, &[]);
    let containers = effective::compute(loaded, &facts)?;
    let config = &loaded.config;
    let mut images = Vec::new();
    let mut layouts = Vec::new();
    let mut add = |location: String, name: String, reference: &str, prefix: String| -> Result<(), BuildError> {
        images.push(ImageUse {
            image: resolver.resolve(reference)?,
            location,
            name,
            reference: reference.to_owned(),
            prefix,
        });
        Ok(())
    };
    if let Some(kernel) = config.kernel.as_ref().and_then(|k| k.image.as_ref()) {
        add(
            "kernel".into(),
            format!("kernel {}", kernel.value),
            &kernel.value,
            String::new(),
        )?;
    }
    for (i, reference) in config.init.iter().flatten().enumerate() {
        add(
            format!("init[{i}]"),
            format!("init[{i}] {}", reference.value),
            &reference.value,
            String::new(),
        )?;
    }
    for (i, volume) in config.volumes.iter().flatten().enumerate() {
        let volume = &volume.value;
        let (Some(name), Some(image)) = (&volume.name, &volume.image) else {
            continue;
        };
        if volume.format == Some(VolumeFormat::Oci) {
            // The store keeps the one platform an image was resolved for.
            for wanted in volume.platforms.iter().flatten() {
                if wanted.parse::<crate::image::Platform>().ok().as_ref() != Some(&resolver.platform) {
                    return Err(BuildError::Input {
                        what: format!("volumes[{i}] ({})", image.value),
                        message: format!(
                            "platform {wanted} is asked for, but this build holds only {}",
                            resolver.platform
                        ),
                        hint: "list only the build's platform (--platform), or leave platforms out".into(),
                    });
                }
            }
            layouts.push((i, resolver.resolve(&image.value)?));
            continue;
        }
        add(
            format!("volume[{i}]"),
            format!("volumes/{} {}", name.value, image.value),
            &image.value,
            format!("{}/{}/lower/", VOLUMES_DIR.trim_start_matches('/'), name.value),
        )?;
    }
    let mut seen = BTreeSet::new();
    for c in &containers {
        // The same key as the bundle mounts' (`redis` and `docker.io/library/redis` are one).
        let key = c
            .image
            .parse::<crate::image::ImageRef>()
            .map_or_else(|_| c.image.clone(), |r| r.to_string());
        if !seen.insert(key) {
            continue;
        }
        let root = if c.config.root.readonly { "rootfs" } else { "lower" };
        add(
            format!("{}[{}]", c.section, c.index),
            format!("{}/{} {}", c.section, c.name, c.image),
            &c.image,
            format!("{}/{root}/", c.path),
        )?;
    }
    Ok(Plan {
        containers,
        images,
        layouts,
    })
}
