//! Output formats other tools read (SPDX 2.3, CycloneDX 1.6, SARIF 2.1.0, JUnit XML) and the
//! ones people read (the gate's table, report.html).

pub mod cyclonedx;
pub mod html;
pub mod junit;
pub mod sarif;
pub mod spdx;
pub mod summary;

use std::collections::BTreeSet;

use crate::image::{Digest, ResolvedImage, folder};
use crate::inspect::ComponentFacts;
use crate::party::Party;

/// One component image of an SBOM: what inspection found in it, and where its files land in the
/// final OS image (`containers/services/sshd/lower/`, or nothing for init images).
pub struct ComponentSbom<'a> {
    /// A name for people: the image reference, or `services/sshd`.
    pub name: String,
    /// What the component is: an image's manifest digest, a folder's listing digest.
    pub manifest: Digest,
    pub facts: &'a ComponentFacts,
    /// Prepended to every path of this component.
    pub prefix: String,
    /// Who supplies the image: as given, else its `org.opencontainers.image.vendor` label.
    pub supplier: Option<Party>,
}

impl<'a> ComponentSbom<'a> {
    pub fn new(
        name: String,
        image: &ResolvedImage,
        prefix: String,
        supplier: Option<String>,
        facts: &'a ComponentFacts,
    ) -> Self {
        let supplier = supplier
            .or_else(|| image.labels().get("org.opencontainers.image.vendor").cloned())
            .and_then(|s| Party::organization(&s));
        ComponentSbom {
            name,
            manifest: image.manifest_digest.clone(),
            facts,
            prefix,
            supplier,
        }
    }

    /// A folder read in place (`dir:`): nothing in it names a supplier.
    pub fn folder(name: String, facts: &'a ComponentFacts) -> Self {
        ComponentSbom {
            name,
            manifest: folder::listing_digest(&facts.rootfs),
            facts,
            prefix: String::new(),
            supplier: None,
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
    pub authorship: &'a Authorship,
}

/// Who supplies what an SBOM describes and who made it, as the user said (`--supplier`,
/// `--creator`, or the lock's `sbom` settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorship {
    /// Unset: the supplier its components' names agree on, if they do.
    pub supplier: Option<Party>,
    /// Besides sealkit, which is always named as the tool. At most one organisation: CycloneDX
    /// names one manufacturer.
    pub creators: Vec<Party>,
}

impl Authorship {
    /// Refuses creators that CycloneDX cannot say: more than one organisation.
    pub fn new(supplier: Option<Party>, creators: Vec<Party>) -> Result<Self, String> {
        let organizations = creators
            .iter()
            .filter(|c| c.kind == crate::party::Kind::Organization)
            .count();
        if organizations > 1 {
            return Err(format!(
                "{organizations} organisations are named as creators, and an SBOM has one (CycloneDX's \
                 manufacturer); name one organisation, and any number of people"
            ));
        }
        Ok(Authorship { supplier, creators })
    }
}

impl SbomInput<'_> {
    /// A single image described directly, rather than an OS image made of components.
    pub fn single(&self) -> Option<&ComponentSbom<'_>> {
        match self.components {
            [only] if only.prefix.is_empty() => Some(only),
            _ => None,
        }
    }

    /// Who supplies what the document describes: as the user said; else, for one image, its
    /// supplier; else the one supplier every component agrees on (all named in one registry
    /// namespace, say).
    pub fn supplier(&self) -> Option<Party> {
        if let Some(s) = &self.authorship.supplier {
            return Some(s.clone());
        }
        if let Some(only) = self.single() {
            return only.supplier.clone();
        }
        let suppliers: BTreeSet<Option<&Party>> = self.components.iter().map(|c| c.supplier.as_ref()).collect();
        match suppliers.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(one)] => Some((*one).clone()),
            _ => None,
        }
    }

    /// What the document describes without a supplier, which the NTIA minimum elements require
    /// of every component: the subject itself, component images, packages.
    pub fn without_supplier(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.supplier().is_none() {
            missing.push(self.name.to_owned());
        }
        for c in self.components {
            if self.single().is_none() && c.supplier.is_none() {
                missing.push(c.name.clone());
            }
            for p in &c.facts.catalog.packages {
                if p.supplier.as_ref().is_none_or(|s| s.trim().is_empty()) {
                    missing.push(format!("{} {}", p.name, p.version));
                }
            }
        }
        missing
    }
}
