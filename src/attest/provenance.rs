//! SLSA Provenance v1 of a sealkit build: which configuration files, images and policy went in,
//! with which parameters, and what came out besides the image files. The build type's
//! parameters are documented in docs/signing.md; with them and the same images, `sealkit build`
//! makes the same bytes again (`verify --rebuild`).

use serde::{Deserialize, Serialize};

use super::statement::ResourceDescriptor;
use crate::config::Loaded;
use crate::image::digest::Digest;
use crate::plan::Plan;

/// The buildType of sealkit's provenance: its externalParameters are [`ExternalParameters`].
pub const BUILD_TYPE: &str = "https://sealkit.dev/build/linuxkit-image/v1";
/// The builder: the sealkit command line, on whatever machine ran it.
pub const BUILDER_ID: &str = "https://sealkit.dev/builder/cli/v1";

/// One image the build used: where the configuration names it, the reference as written, and
/// the manifest it resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInput {
    /// `kernel`, `init[0]`, `onboot[1]`, `services[2]`, `volumes[0]` (LinuxKit's words).
    pub location: String,
    pub reference: String,
    pub manifest: Digest,
}

/// What went into a build, as plain data: the gate fills it from its plan
/// ([`BuildInputs::from_plan`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BuildInputs {
    pub parameters: ExternalParameters,
    pub images: Vec<ImageInput>,
    /// The EFI stub a UKI was built on (named [`EFI_STUB`], its URI the file's): its bytes are
    /// in the image, so a rebuild needs the same.
    pub efi_stub: Option<ResourceDescriptor>,
    /// The external tools that wrote the formats, with their versions (`build::Built::tools`):
    /// components of the builder, so they go with sealkit's own version.
    pub tools: std::collections::BTreeMap<String, String>,
}

/// sealkit's own entry in the builder's versions; the others are the tools it ran.
pub const SEALKIT: &str = "sealkit";

/// The name the EFI stub goes by among the provenance's resolved dependencies.
pub const EFI_STUB: &str = "efi-stub";

/// The externalParameters of [`BUILD_TYPE`]: everything a user chose. Unknown fields are refused
/// when read, as SLSA asks of verifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalParameters {
    /// The configuration files, merged in this order: file name and sha256.
    pub configs: Vec<ResourceDescriptor>,
    /// The image's name, the start of every output file's name.
    pub name: String,
    /// The output formats (`kernel+initrd`, `tar`, …).
    pub formats: Vec<String>,
    /// `OS/ARCH[/VARIANT]` picked from multi-platform images.
    pub platform: String,
    /// The time of every entry of the image (SOURCE_DATE_EPOCH).
    pub source_date_epoch: u64,
    /// Who the image's /sbom.spdx.json names as supplier and creators (they are in its bytes, so
    /// a rebuild needs them); null when the image holds no SBOM.
    pub sbom: Option<crate::report::Authorship>,
    /// Whether the root was built as NAME-root.img under dm-verity (`--verity`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verity: bool,
}

impl BuildInputs {
    /// The inputs of building `plan` from `loaded` (whose configuration files are read again to
    /// hash them) as `name` in `formats`.
    pub fn from_plan(
        loaded: &Loaded,
        plan: &Plan,
        name: &str,
        formats: &[crate::build::Format],
        source_date_epoch: u64,
        sbom: Option<&crate::report::Authorship>,
    ) -> Result<BuildInputs, super::AttestError> {
        use clap::ValueEnum as _;
        let mut configs = Vec::new();
        for path in &loaded.origins.files {
            let digest = super::file_digest(path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            configs.push(ResourceDescriptor::named(&name, &digest));
        }
        let mut images: Vec<ImageInput> = plan
            .images
            .iter()
            .map(|i| ImageInput {
                location: i.location.clone(),
                reference: i.reference.clone(),
                manifest: i.image.manifest_digest.clone(),
            })
            .collect();
        images.extend(plan.layouts.iter().map(|(index, image)| ImageInput {
            location: format!("volumes[{index}]"),
            reference: image.reference.clone(),
            manifest: image.manifest_digest.clone(),
        }));
        let formats = formats
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_owned()))
            .collect();
        Ok(BuildInputs {
            parameters: ExternalParameters {
                configs,
                name: name.to_owned(),
                formats,
                platform: plan.platform.to_string(),
                source_date_epoch,
                sbom: sbom.cloned(),
                verity: false,
            },
            images,
            efi_stub: None,
            tools: Default::default(),
        })
    }

    /// With the EFI stub at `path` among the inputs, when `formats` build a UKI.
    pub fn with_efi_stub(
        self,
        formats: &[crate::build::Format],
        path: &std::path::Path,
    ) -> Result<BuildInputs, super::AttestError> {
        use crate::build::Format;
        if !formats.iter().any(|f| matches!(f, Format::Uki | Format::Esp)) {
            return Ok(self);
        }
        let digest = super::file_digest(path)?;
        Ok(BuildInputs {
            efi_stub: Some(ResourceDescriptor {
                uri: Some(format!("file://{}", path.display())),
                ..ResourceDescriptor::named(EFI_STUB, &digest)
            }),
            ..self
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: String,
    /// Read as JSON first: another build type's parameters are not sealkit's to judge.
    pub external_parameters: serde_json::Value,
    #[serde(default)]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    pub builder: Builder,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Builder {
    pub id: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub version: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

impl Provenance {
    /// The provenance of a build with `inputs`, the policy set `policy` (its URI and digest)
    /// when one was applied, `byproducts` (the folder's other documents), finished at `time`.
    pub fn new(
        inputs: &BuildInputs,
        policy: Option<ResourceDescriptor>,
        byproducts: Vec<ResourceDescriptor>,
        time: Option<u64>,
    ) -> Provenance {
        let mut dependencies: Vec<ResourceDescriptor> = inputs
            .images
            .iter()
            .map(|i| ResourceDescriptor {
                uri: Some(i.reference.clone()),
                ..ResourceDescriptor::named(&i.location, &i.manifest)
            })
            .collect();
        dependencies.extend(inputs.efi_stub.clone());
        dependencies.extend(policy);
        Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.to_owned(),
                external_parameters: serde_json::to_value(&inputs.parameters).unwrap_or_default(),
                resolved_dependencies: dependencies,
            },
            run_details: RunDetails {
                builder: Builder {
                    id: BUILDER_ID.to_owned(),
                    version: inputs
                        .tools
                        .clone()
                        .into_iter()
                        .chain([(SEALKIT.to_owned(), env!("CARGO_PKG_VERSION").to_owned())])
                        .collect(),
                },
                metadata: time.map(|t| Metadata {
                    finished_on: Some(crate::epoch::rfc3339(t)),
                }),
                byproducts,
            },
        }
    }

    /// The images among the resolved dependencies, as (location, sha256 hex), in order: all
    /// but the EFI stub, the policy set and the advisory database.
    pub fn image_dependencies(&self) -> Vec<(String, String)> {
        self.build_definition
            .resolved_dependencies
            .iter()
            .filter(|d| {
                !matches!(
                    d.name.as_deref(),
                    Some(EFI_STUB | super::policy::POLICY_DEPENDENCY | super::VULNERABILITY_DATABASE)
                )
            })
            .map(|d| {
                (
                    d.name.clone().unwrap_or_default(),
                    d.sha256().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The EFI stub the image's UKI was built on, when it names one.
    pub fn efi_stub(&self) -> Option<&ResourceDescriptor> {
        self.build_definition
            .resolved_dependencies
            .iter()
            .find(|d| d.name.as_deref() == Some(EFI_STUB))
    }

    /// sealkit's parameters, if this is a sealkit build; an error says why not.
    pub fn parameters(&self) -> Result<ExternalParameters, String> {
        if self.build_definition.build_type != BUILD_TYPE {
            return Err(format!(
                "buildType {:?} is not sealkit's ({BUILD_TYPE})",
                self.build_definition.build_type
            ));
        }
        serde_json::from_value(self.build_definition.external_parameters.clone())
            .map_err(|e| format!("externalParameters: {e}"))
    }
}
