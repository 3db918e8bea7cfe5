//! `sealkit sbom IMAGE`: the software bill of materials as SPDX 2.3 or CycloneDX 1.6 JSON.

use std::path::{Path, PathBuf};

use sealkit::image::{self, Rootfs};
use sealkit::inspect::{sbom, scan};
use sealkit::report::{self, SbomInput};

use super::image::parse_ref;
use super::{Failure, Outcome, StoreArgs, json_error, print};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    SpdxJson,
    CyclonedxJson,
    /// sealkit's own catalog (packages, problems), for inspection
    Json,
}

#[derive(clap::Args)]
pub struct SbomArgs {
    /// The image: a store name, a registry reference, oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS
    #[arg(value_name = "IMAGE")]
    image: String,
    #[arg(long, value_enum, default_value = "spdx-json")]
    format: Format,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Files larger than this are not read by the catalogers (a status file is a few MiB).
const CATALOG_FILE_LIMIT: u64 = 64 << 20;

pub fn run(args: &SbomArgs) -> Outcome {
    let (store, platform, _) = args.store.open()?;
    let resolved = image::resolve(&store, &parse_ref(&args.image)?, &platform, Path::new("."))?;
    let rootfs = Rootfs::flatten(&store, &resolved)?;
    let contents = image::rootfs::read_contents(&store, &resolved, &rootfs, &sbom::wanted, CATALOG_FILE_LIMIT)?;
    let binaries = scan::scan_image(&store, &resolved, &rootfs)?;
    let mut catalog = sbom::catalog(&contents.files, &rootfs, &binaries);
    for p in &contents.too_large {
        catalog.problems.push(sbom::Problem {
            file: p.display().to_string(),
            line: 0,
            message: format!("larger than {CATALOG_FILE_LIMIT} bytes: not read"),
        });
    }
    for p in &catalog.problems {
        eprintln!("note: {}:{}: {}", p.file, p.line, p.message);
    }
    let input = SbomInput {
        name: &args.image,
        manifest: &resolved.manifest_digest,
        catalog: &catalog,
        rootfs: &rootfs,
        sha1: &contents.sha1,
        created: report::creation_time(),
        supplier: resolved
            .labels()
            .get("org.opencontainers.image.vendor")
            .cloned()
            .or_else(|| match parse_ref(&args.image).ok()? {
                sealkit::image::ImageRef::Registry(r) => r.repository().rsplit_once('/').map(|(ns, _)| ns.to_owned()),
                _ => None,
            }),
    };
    let doc = match args.format {
        Format::SpdxJson => report::spdx::document(&input),
        Format::CyclonedxJson => report::cyclonedx::document(&input),
        Format::Json => serde_json::to_value(&catalog).map_err(json_error)?,
    };
    let bytes = serde_json::to_vec_pretty(&doc).map_err(json_error)?;
    match &args.output {
        None => print(&bytes),
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| Failure::usage(format!("error: {}: {e}", dir.display())))?;
            std::io::Write::write_all(&mut tmp, &bytes)
                .map_err(|e| Failure::usage(format!("error: {}: {e}", path.display())))?;
            tmp.persist(path)
                .map_err(|e| Failure::usage(format!("error: {}: {}", path.display(), e.error)))?;
            eprintln!("wrote {} ({} packages)", path.display(), catalog.packages.len());
            Ok(())
        }
    }
}
