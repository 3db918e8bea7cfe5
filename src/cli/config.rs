//! `sealkit config`: validate and merge LinuxKit files, or show each container's effective config.

use std::path::PathBuf;

use sealkit::config::label::LabelDir;
use sealkit::config::{self};
use sealkit::effective;
use sealkit::plan::PlanOptions;

use super::{Outcome, StoreArgs, json_error, print};

#[derive(clap::Args)]
pub struct ConfigArgs {
    /// LinuxKit YAML files, merged in order (later kernel settings win, lists are appended)
    #[arg(required = true, value_name = "FILE.yml")]
    files: Vec<PathBuf>,
    /// Print each container's effective OCI config.json and runtime.json instead of the merged YAML
    #[arg(long)]
    effective: bool,
    /// Folder of LinuxKit package folders (NAME/build.yml) whose `config:` blocks stand in for the
    /// labels of images that are not in the store; may be given several times
    #[arg(long, value_name = "DIR")]
    label_dir: Vec<PathBuf>,
    /// Pull registry images missing from the store (otherwise only the store and local paths are read)
    #[arg(long)]
    pull: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: &ConfigArgs) -> Outcome {
    let loaded = config::load(&args.files)?;
    for w in &loaded.warnings {
        super::log::warning(&w.to_string());
    }
    if !args.effective {
        return print(&serde_json::to_vec_pretty(&loaded.config).map_err(json_error)?);
    }
    let mut label_dirs = Vec::new();
    for dir in &args.label_dir {
        label_dirs.push(LabelDir::load(dir)?);
    }
    // The lock of the first file pins the images, as it does for every later stage.
    let resolver = args.store.resolver(&args.files[0], args.pull)?;
    let allow = PlanOptions {
        missing_images: true,
        label_dirs: &label_dirs,
        ..PlanOptions::default()
    };
    let components = super::plan_trusted(&args.store, &loaded, &resolver, &args.files[0], allow)?.containers;
    for c in components.iter().filter(|c| !c.image_config_known) {
        super::log::note(&format!(
            "{} ({}): image not in the store{}; its effective config rests on the YAML{} and defaults",
            c.name,
            c.image,
            if args.pull { "" } else { " (pass --pull to fetch it)" },
            if c.label_source.is_some() {
                ", the --label-dir label"
            } else {
                ""
            }
        ));
    }
    let document = effective::Document {
        schema: effective::DOCUMENT_SCHEMA,
        files: args.files.iter().map(|f| f.display().to_string()).collect(),
        components,
    };
    print(&serde_json::to_vec_pretty(&document).map_err(json_error)?)
}
