//! Image labels (`org.mobyproject.config`): the runtime defaults a package ships with its image.
//!
//! A label is read from the image config when the image is available, or from the `config:`
//! block of the package's `build.yml` (which `linuxkit pkg build` serialises into the label) when
//! it is not: `--label-dir` points at a folder of such packages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::diag::{ConfigError, Findings};
use super::model::{ImageSpec, S};
use super::validate::{SpecKind, check_spec_alone};
use super::{MAX_FILE_BYTES, Typing, parse_yaml, read_text};
use crate::reference::ImageRef;

/// The image label LinuxKit reads runtime defaults from.
pub const LABEL_KEY: &str = "org.mobyproject.config";

/// A parsed label and where it was read.
#[derive(Debug, Clone)]
pub struct Label {
    pub spec: ImageSpec,
    /// `pkg/getty/build.yml`, or `LABEL_KEY` of an image.
    pub source: String,
}

/// Parses the JSON (or YAML) text of an `org.mobyproject.config` label.
pub fn parse_label(text: &str, source: &str) -> Result<Label, ConfigError> {
    let path = Path::new(source);
    let spec: S<ImageSpec> = parse_yaml(text, path, Typing::Schema)?;
    let mut findings = Findings::default();
    check_spec_alone(&spec, path, "label", SpecKind::Label, &mut findings);
    findings.into_result()?;
    Ok(Label {
        spec: spec.value,
        source: source.to_owned(),
    })
}

#[derive(Debug, Deserialize)]
struct BuildYml {
    image: Option<String>,
    org: Option<String>,
    config: Option<S<ImageSpec>>,
}

/// Labels of LinuxKit-style package folders (`DIR/NAME/build.yml`), keyed by `ORG/IMAGE`.
#[derive(Debug, Clone, Default)]
pub struct LabelDir {
    packages: BTreeMap<String, Label>,
}

impl LabelDir {
    /// Reads every `*/build.yml` below `dir` (one level deep, as LinuxKit's `pkg/` is laid out).
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let mut packages = BTreeMap::new();
        let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut folders: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        folders.sort();
        let mut errors = Vec::new();
        for folder in folders {
            let build_yml = folder.join("build.yml");
            if !build_yml.is_file() {
                continue;
            }
            match Self::read_package(&folder, &build_yml) {
                Ok(Some((key, label))) => {
                    packages.insert(key, label);
                }
                Ok(None) => {}
                Err(ConfigError::Invalid(d)) => errors.extend(d),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(ConfigError::Invalid(errors));
        }
        Ok(LabelDir { packages })
    }

    fn read_package(folder: &Path, build_yml: &Path) -> Result<Option<(String, Label)>, ConfigError> {
        let text = read_text(build_yml, MAX_FILE_BYTES)?;
        // build.yml is decoded into Go structs, not schema-checked: `mode: 0666` is the string "0666".
        let pkg: BuildYml = parse_yaml(&text, build_yml, Typing::GoStruct)?;
        let folder_name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let image = pkg.image.filter(|s| !s.is_empty()).unwrap_or(folder_name);
        let org = pkg
            .org
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| super::template::DEFAULT_ORG.into());
        let Some(config) = pkg.config else {
            return Ok(Some((
                format!("{org}/{image}"),
                Label {
                    spec: ImageSpec::default(),
                    source: build_yml.display().to_string(),
                },
            )));
        };
        let mut findings = Findings::default();
        check_spec_alone(&config, build_yml, "config", SpecKind::Label, &mut findings);
        findings.into_result()?;
        Ok(Some((
            format!("{org}/{image}"),
            Label {
                spec: config.value,
                source: build_yml.display().to_string(),
            },
        )))
    }

    /// The label of the package that builds `image`, matched on `ORG/IMAGE` (the registry and
    /// tag are ignored: a package folder describes every tag it was built at).
    pub fn find(&self, image: &ImageRef) -> Option<&Label> {
        self.packages.get(image.repository()?)
    }

    /// As [`LabelDir::find`], from the reference as written.
    pub fn find_text(&self, image: &str) -> Option<&Label> {
        self.find(&image.parse().ok()?)
    }

    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}
