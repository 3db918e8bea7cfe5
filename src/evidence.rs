//! The evidence document: every fact sealkit found about an OS image (or one image), in one
//! versioned JSON that policy reads and nothing else. Inspectors stated the facts; this module
//! only arranges them, per component, beside what the configuration says. Its JSON Schema is
//! docs/evidence.schema.json.
//!
//! The document borrows the facts it shows: building it copies nothing large.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::config::Loaded;
use crate::config::model::{File as FileSpec, S};
use crate::effective::Component;
use crate::effective::oci::{RuntimeJson, Spec};
use crate::image::rootfs::LayerFact;
use crate::image::{Platform, ResolvedImage};
use crate::inspect::ComponentFacts;
use crate::inspect::files_section::{FilesSection, inspect_files_section};
use crate::inspect::hardening::{Privileges, RootfsFacts, privileges};
use crate::inspect::kernel::{self, CmdlineFacts, KernelConfig, Unread};
use crate::inspect::sbom::{Distro, Package, Problem, catalog::attached::AttachedSbom};
use crate::inspect::scan::BinaryReport;
use crate::inspect::secrets::Secrets;
use crate::plan::{ImageUse, Plan};
use crate::reference::ImageRef;
use crate::trust::{self, Finding};
use crate::vuln::matching::Report;
use crate::vuln::vex;

/// The `schema` of the document; a breaking change gets a new version.
pub const SCHEMA: &str = "sealkit.dev/evidence/v1";

/// Everything an OS image's evidence rests on, gathered: the configuration, its plan, and each
/// planned image inspected once. [`Gathered::evidence`] arranges it as the document.
pub struct Gathered {
    pub name: String,
    pub loaded: Loaded,
    pub plan: Plan,
    pub facts: Vec<ComponentFacts>,
    /// The configuration files and lock file, hashed in the document.
    pub inputs: Vec<std::path::PathBuf>,
    /// What the `files` section writes, its secrets found and redacted.
    pub files_section: FilesSection,
}

impl Gathered {
    /// Plans `loaded` through `resolver`, judging its images by `trust` when given, and
    /// inspects every image it names.
    pub fn of_config(
        name: &str,
        loaded: Loaded,
        resolver: &crate::image::lock::Resolver,
        trust: Option<&trust::Policy>,
        inputs: Vec<std::path::PathBuf>,
        progress: &dyn crate::progress::Progress,
    ) -> Result<Self, crate::plan::PlanError> {
        let options = crate::plan::PlanOptions {
            trust,
            progress: Some(progress),
            ..Default::default()
        };
        let mut stages = crate::progress::Stages::new(progress);
        stages.begin("resolve", None, "images");
        let plan = crate::plan::plan(&loaded, resolver, &options)?;
        stages.begin("unpack", Some(plan.images.len() as u64), "images");
        let mut facts = Vec::new();
        for image in &plan.images {
            facts.push(crate::inspect::inspect_planned(
                &resolver.store,
                &loaded,
                image,
                &mut crate::image::rootfs::FileCounter(progress),
            )?);
            progress.advance(1, 0, 0);
        }
        stages.finish();
        Ok(Gathered {
            name: name.to_owned(),
            files_section: inspect_files_section(&loaded),
            loaded,
            plan,
            facts,
            inputs,
        })
    }

    pub fn evidence(&self) -> std::io::Result<Evidence<'_>> {
        let inputs: Vec<&Path> = self.inputs.iter().map(|p| p.as_path()).collect();
        of_os_image(
            &self.name,
            &self.loaded,
            &self.plan,
            &self.facts,
            &self.files_section,
            &inputs,
        )
    }
}

#[derive(Debug, Serialize)]
pub struct Evidence<'a> {
    pub schema: &'static str,
    pub tool: Tool,
    pub subject: Subject,
    pub components: Vec<ComponentEvidence<'a>>,
    /// The kernel, its configuration and its command line, for an OS image with a kernel (or a
    /// lone kernel image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelEvidence<'a>>,
    /// The configuration's `files` section, as written but for the secrets in its contents.
    pub files_section: &'a [S<FileSpec>],
    /// Secrets in what the `files` section writes into the image (absent without a
    /// configuration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_secrets: Option<&'a Secrets>,
    /// The known vulnerabilities of the components' packages (docs/vulnerabilities.md), and the
    /// advisory database that judged them; absent when no database was available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<VulnerabilityEvidence<'a>>,
}

/// Where the advisory database is, and what a scan may assume.
#[derive(Default)]
pub struct VulnOptions<'a> {
    /// A database the user named (`--vulndb`): it must exist. Without one the default
    /// location is used when it holds a database, and the evidence says nothing was matched
    /// when it does not (the baseline warns).
    pub database: Option<&'a Path>,
    /// The distribution of images without os-release (`--distro`), shown in the evidence.
    pub distro: Option<&'a crate::inspect::sbom::Distro>,
    /// `--max-db-age`: the most days the newest advisory may be older than the evaluation date.
    pub max_age_days: Option<u64>,
    /// VEX documents whose statements suppress the matches they show not to apply.
    pub vex: &'a [vex::Document],
}

impl<'a> Evidence<'a> {
    /// The components' packages matched against the advisory database, or none when the user
    /// named no database and the default location holds none.
    pub fn scan_vulnerabilities(&self, options: &VulnOptions) -> Result<Option<Report>, crate::vuln::VulnError> {
        use crate::vuln::scan::{Component, scan};
        let dir = options
            .database
            .map_or_else(crate::vuln::db::default_location, Path::to_path_buf);
        let components: Vec<Component> = self
            .components
            .iter()
            .map(|c| Component {
                name: c.name.clone(),
                prefix: String::new(),
                packages: c.packages,
                distro: c.distro,
            })
            .collect();
        match scan(&dir, &components, options.distro) {
            Ok(mut report) => {
                if !options.vex.is_empty() {
                    let subjects: Vec<vex::Subject> = self.components.iter().map(vex_subject).collect();
                    vex::apply(&mut report, options.vex, &subjects);
                }
                Ok(Some(report))
            }
            Err(e) if e.code == crate::vuln::Code::Missing && options.database.is_none() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Carries `report` (when there is one), its database's age at the evaluation date
    /// (`--now`'s day at midnight UTC, else SOURCE_DATE_EPOCH; never the clock) and the limit.
    pub fn add_vulnerabilities(
        &mut self,
        report: Option<&'a Report>,
        now: Option<&str>,
        source_date_epoch: Option<u64>,
        max_age_days: Option<u64>,
    ) {
        let evaluated_at = match now {
            Some(day) => crate::epoch::parse_rfc3339(&format!("{day}T00:00:00Z")).map(|(seconds, _)| seconds),
            None => source_date_epoch.and_then(|s| i64::try_from(s).ok()),
        };
        self.vulnerabilities = report.map(|r| VulnerabilityEvidence::new(r, evaluated_at, max_age_days));
    }
}

/// What a VEX statement about an image can name a component by: its name, its reference and
/// digests, its architecture.
fn vex_subject(c: &ComponentEvidence) -> vex::Subject {
    match &c.image.manifest {
        Some(manifest) => vex::Subject::image(
            &c.name,
            c.image.reference,
            std::iter::once(manifest.clone()).chain(c.image.index.clone()).collect(),
            c.image.platform.split('/').nth(1),
        ),
        None => vex::Subject::folder(&c.name),
    }
}

#[derive(Debug, Serialize)]
pub struct VulnerabilityEvidence<'a> {
    #[serde(flatten)]
    pub report: &'a Report,
    /// Whole days from the database's newest entry to the evaluation date (`--now`,
    /// SOURCE_DATE_EPOCH): absent when either is unknown. Never the clock's.
    pub database_age_days: Option<u64>,
    /// The most `--max-db-age` allows, when given.
    pub max_database_age_days: Option<u64>,
}

impl<'a> VulnerabilityEvidence<'a> {
    /// `evaluated_at` in seconds since 1970.
    pub fn new(report: &'a Report, evaluated_at: Option<i64>, max_database_age_days: Option<u64>) -> Self {
        let newest = report
            .database
            .newest
            .as_deref()
            .and_then(crate::epoch::parse_rfc3339)
            .map(|(seconds, _)| seconds);
        let database_age_days = match (newest, evaluated_at) {
            (Some(newest), Some(at)) => Some(u64::try_from((at - newest).max(0) / 86_400).unwrap_or(0)),
            _ => None,
        };
        VulnerabilityEvidence {
            report,
            database_age_days,
            max_database_age_days,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Subject {
    /// `os-image` (a LinuxKit configuration), `image` (one component image) or `folder` (a
    /// `dir:` folder read in place).
    pub kind: &'static str,
    pub name: String,
    pub platform: String,
    /// The configuration files and lock file the facts rest on, with their digests.
    pub inputs: Vec<Input>,
}

#[derive(Debug, Serialize)]
pub struct Input {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct KernelEvidence<'a> {
    pub image: String,
    /// The command line as written, and as the kernel will parse it (absent for a lone image:
    /// the command line is the configuration's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline_parsed: Option<CmdlineFacts>,
    /// The kernel's configuration, when one was found (docs/kernel.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<&'a KernelConfig>,
    /// Every source tried before the one that gave the configuration (or all of them, when
    /// none did), with the reason it gave nothing.
    pub config_unread: Vec<Unread>,
}

#[derive(Debug, Serialize)]
pub struct ComponentEvidence<'a> {
    /// `kernel`, `init`, `volume`, `onboot`, `onshutdown`, `service`, `image`, or `folder`.
    pub role: &'static str,
    pub name: String,
    /// Where the configuration names it (`services[0]`), empty for a lone image.
    pub location: String,
    pub image: ImageEvidence<'a>,
    /// What LinuxKit will run: the effective config.json and runtime.json (containers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges: Option<Privileges>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<&'a Distro>,
    pub packages: &'a [Package],
    pub package_problems: &'a [Problem],
    pub attached_sboms: &'a [AttachedSbom],
    pub binaries: &'a [BinaryReport],
    pub files: &'a RootfsFacts,
    pub secrets: &'a Secrets,
    /// Its signatures and the trust policy's verdict (docs/trust.md); absent where nothing was
    /// resolved through a plan (a lone image, a folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<&'a Finding>,
}

#[derive(Debug, Serialize)]
pub struct ImageEvidence<'a> {
    pub reference: &'a str,
    /// An image's manifest digest; a folder has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// A folder's listing digest (each entry's path, type, mode, owner, content digest or target,
    /// and file capability, in path order): what it is, as a manifest digest is what an image
    /// is. The SBOM of the folder names it too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub platform: String,
    pub layers: Vec<LayerEvidence>,
    /// The image's own labels (LinuxKit's `org.mobyproject.config` among them).
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct LayerEvidence {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// How the layer was written, where that is unusual but accepted (e.g. `tar-footer-missing`:
    /// umoci's layers end without the closing blocks); a policy may warn on it.
    pub facts: Vec<LayerFact>,
}

#[derive(Debug, Serialize)]
pub struct Runtime<'a> {
    /// Where the label came from, when the image has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_source: Option<&'a str>,
    pub config: &'a Spec,
    pub runtime: &'a RuntimeJson,
}

fn tool() -> Tool {
    Tool {
        name: "sealkit",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn image_evidence<'a>(reference: &'a str, image: &ResolvedImage, facts: &ComponentFacts) -> ImageEvidence<'a> {
    ImageEvidence {
        reference,
        manifest: Some(image.manifest_digest.to_string()),
        listing: None,
        index: image.index_digest.as_ref().map(ToString::to_string),
        platform: image.platform.to_string(),
        layers: image
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| LayerEvidence {
                digest: l.digest().to_string(),
                media_type: l.media_type().to_string(),
                size: l.size(),
                // Flattening reads every layer in order, one record each.
                facts: facts.rootfs.layers.get(i).map(|f| f.facts.clone()).unwrap_or_default(),
            })
            .collect(),
        labels: image.labels(),
    }
}

fn facts_part<'a>(
    role: &'static str,
    name: String,
    location: String,
    image: ImageEvidence<'a>,
    facts: &'a ComponentFacts,
) -> ComponentEvidence<'a> {
    ComponentEvidence {
        role,
        name,
        location,
        image,
        runtime: None,
        privileges: None,
        distro: facts.catalog.distro.as_ref(),
        packages: &facts.catalog.packages,
        package_problems: &facts.catalog.problems,
        attached_sboms: &facts.catalog.attached,
        binaries: &facts.binaries,
        files: &facts.files,
        secrets: &facts.secrets,
        trust: None,
    }
}

/// The evidence of one image on its own (`sealkit scan IMAGE`).
pub fn of_image<'a>(reference: &'a str, image: &ResolvedImage, facts: &'a ComponentFacts) -> Evidence<'a> {
    Evidence {
        schema: SCHEMA,
        tool: tool(),
        subject: Subject {
            kind: "image",
            name: reference.to_owned(),
            platform: image.platform.to_string(),
            inputs: Vec::new(),
        },
        components: vec![facts_part(
            "image",
            reference.to_owned(),
            String::new(),
            image_evidence(reference, image, facts),
            facts,
        )],
        kernel: facts.kernel.as_ref().map(|k| KernelEvidence {
            image: reference.to_owned(),
            cmdline: None,
            cmdline_parsed: None,
            config: k.config.as_ref(),
            config_unread: k.unread.clone(),
        }),
        files_section: &[],
        files_secrets: None,
        vulnerabilities: None,
    }
}

/// The evidence of a folder read in place (`sealkit scan dir:PATH`): one component with role
/// `folder`, its `image` naming the folder's listing digest instead of a manifest, no layers and
/// no labels; `platform` is the one the folder is taken to be for (a folder does not say).
pub fn of_folder<'a>(reference: &'a str, platform: &Platform, facts: &'a ComponentFacts) -> Evidence<'a> {
    let image = ImageEvidence {
        reference,
        manifest: None,
        index: None,
        listing: Some(crate::image::folder::listing_digest(&facts.rootfs).to_string()),
        platform: platform.to_string(),
        layers: Vec::new(),
        labels: BTreeMap::new(),
    };
    Evidence {
        schema: SCHEMA,
        tool: tool(),
        subject: Subject {
            kind: "folder",
            name: reference.to_owned(),
            platform: platform.to_string(),
            inputs: Vec::new(),
        },
        components: vec![facts_part("folder", reference.to_owned(), String::new(), image, facts)],
        kernel: None,
        files_section: &[],
        files_secrets: None,
        vulnerabilities: None,
    }
}

/// The evidence of the OS image `plan` describes; `facts` are the inspections of
/// `plan.images`, in order. `inputs` are the files the configuration came from (the
/// configuration files and the lock), hashed here.
pub fn of_os_image<'a>(
    name: &str,
    loaded: &'a Loaded,
    plan: &'a Plan,
    facts: &'a [ComponentFacts],
    files: &'a FilesSection,
    inputs: &[&Path],
) -> std::io::Result<Evidence<'a>> {
    let mut hashed = Vec::new();
    for path in inputs {
        let bytes = std::fs::read(path)?;
        hashed.push(Input {
            path: path.display().to_string(),
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
    }
    let mut components = Vec::new();
    for (image, facts) in plan.images.iter().zip(facts) {
        let role = match image.location.split('[').next().unwrap_or("") {
            "kernel" => "kernel",
            "init" => "init",
            "volume" => "volume",
            _ => continue, // containers follow, one entry each
        };
        let mut part = facts_part(
            role,
            image.reference.clone(),
            image.location.clone(),
            image_evidence(&image.reference, &image.image, facts),
            facts,
        );
        part.trust = plan.trust.get(&image.reference);
        components.push(part);
    }
    for container in &plan.containers {
        let Some((image, facts)) = image_of(container, &plan.images, facts) else {
            continue;
        };
        let mut part = facts_part(
            role_of(container.section),
            container.name.clone(),
            format!("{}[{}]", container.section, container.index),
            image_evidence(&container.image, &image.image, facts),
            facts,
        );
        part.runtime = Some(Runtime {
            label_source: container.label_source.as_deref(),
            config: &container.config,
            runtime: &container.runtime,
        });
        part.privileges = Some(privileges(container));
        part.trust = plan.trust.get(&container.image);
        components.push(part);
    }
    let kernel_facts = plan
        .images
        .iter()
        .zip(facts)
        .find(|(image, _)| image.location == "kernel")
        .and_then(|(_, facts)| facts.kernel.as_ref());
    let kernel = loaded.config.kernel.as_ref().and_then(|k| {
        k.image.as_ref().map(|image| {
            let cmdline = k.cmdline.clone().unwrap_or_default();
            KernelEvidence {
                image: image.value.clone(),
                cmdline_parsed: Some(kernel::cmdline_facts(&cmdline)),
                cmdline: Some(cmdline),
                config: kernel_facts.and_then(|f| f.config.as_ref()),
                config_unread: match kernel_facts {
                    Some(f) => f.unread.clone(),
                    None => vec![Unread {
                        source: image.value.clone(),
                        reason: format!(
                            "the image has neither its kernel binary ({}) nor {} at its root",
                            k.binary.as_ref().map_or(kernel::DEFAULT_BINARY, |b| b.value.as_str()),
                            kernel::DEV_TAR
                        ),
                    }],
                },
            }
        })
    });
    Ok(Evidence {
        schema: SCHEMA,
        tool: tool(),
        subject: Subject {
            kind: "os-image",
            name: name.to_owned(),
            platform: plan.platform.to_string(),
            inputs: hashed,
        },
        components,
        kernel,
        files_section: &files.entries,
        files_secrets: Some(&files.secrets),
        vulnerabilities: None,
    })
}

fn role_of(section: &str) -> &'static str {
    match section {
        "onboot" => "onboot",
        "onshutdown" => "onshutdown",
        _ => "service",
    }
}

/// The unpacked image a container runs: the plan unpacks each image once, for the first
/// container that names it.
fn image_of<'a>(
    container: &Component,
    images: &'a [ImageUse],
    facts: &'a [ComponentFacts],
) -> Option<(&'a ImageUse, &'a ComponentFacts)> {
    let key = |text: &str| {
        text.parse::<ImageRef>()
            .map_or_else(|_| text.to_owned(), |r| r.to_string())
    };
    let wanted = key(&container.image);
    images.iter().zip(facts).find(|(image, _)| {
        !image.prefix.is_empty() && !image.location.starts_with("volume") && key(&image.reference) == wanted
    })
}
