//! Output formats other tools read: SPDX 2.3 and CycloneDX 1.6 JSON (more to come: SARIF).

pub mod cyclonedx;
pub mod spdx;

use crate::image::{Digest, ResolvedImage};
use crate::inspect::ComponentFacts;

/// One component image of an SBOM: what inspection found in it, and where its files land in the
/// final OS image (`containers/services/sshd/lower/`, or nothing for init images).
pub struct ComponentSbom<'a> {
    /// A name for people: the image reference, or `services/sshd`.
    pub name: String,
    pub manifest: Digest,
    pub facts: &'a ComponentFacts,
    /// Prepended to every path of this component.
    pub prefix: String,
    /// Who supplies the image: as given, else its `org.opencontainers.image.vendor` label.
    pub supplier: Option<String>,
}

impl<'a> ComponentSbom<'a> {
    pub fn new(
        name: String,
        image: &ResolvedImage,
        prefix: String,
        supplier: Option<String>,
        facts: &'a ComponentFacts,
    ) -> Self {
        let supplier = supplier.or_else(|| image.labels().get("org.opencontainers.image.vendor").cloned());
        ComponentSbom {
            name,
            manifest: image.manifest_digest.clone(),
            facts,
            prefix,
            supplier,
        }
    }
}

/// Who supplies an image, as far as its name tells: the namespace of a registry name
/// (`sealkit-fixtures` of `sealkit-fixtures/sshd:1`).
pub fn supplier_of(reference: &str) -> Option<String> {
    match reference.parse::<crate::image::ImageRef>().ok()? {
        crate::image::ImageRef::Registry(r) => r.repository().rsplit_once('/').map(|(ns, _)| ns.to_owned()),
        _ => None,
    }
}

/// Everything an SBOM says: one image, or the components of a whole OS image.
pub struct SbomInput<'a> {
    /// The document's subject: an image reference or a configuration file.
    pub name: &'a str,
    pub components: &'a [ComponentSbom<'a>],
    /// `created` timestamp, from SOURCE_DATE_EPOCH: an SBOM is reproducible.
    pub created: String,
}

impl SbomInput<'_> {
    /// A single image described directly, rather than an OS image made of components.
    pub fn single(&self) -> Option<&ComponentSbom<'_>> {
        match self.components {
            [only] if only.prefix.is_empty() => Some(only),
            _ => None,
        }
    }
}
