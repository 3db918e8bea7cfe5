//! `@pkg:DIR` templates: LinuxKit replaces them with the image that `linuxkit pkg build DIR` would
//! tag, `ORG/IMAGE:TREEHASH`, where TREEHASH is the git tree hash of DIR (with `-dirty` when the
//! folder has uncommitted changes). DIR is relative to the configuration file's folder.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use super::diag::{Code, Diagnostic, Findings};
use super::model::{Config, S};

const PREFIX: &str = "@pkg:";

pub fn resolve(config: &mut Config, base: &Path, file: &Path, findings: &mut Findings) {
    let mut resolve_one = |value: &mut S<String>, field: String| {
        let Some(dir) = value.value.strip_prefix(PREFIX) else {
            return;
        };
        match package_tag(&base.join(dir)) {
            Ok(tag) => value.value = tag,
            Err((message, hint)) => {
                let message = format!("{}: {message}", value.value);
                findings.error(
                    Diagnostic::new(file, value.referenced, field, message)
                        .hint(hint)
                        .code(Code::Template),
                );
            }
        }
    };
    if let Some(image) = config.kernel.as_mut().and_then(|k| k.image.as_mut()) {
        resolve_one(image, "kernel.image".into());
    }
    for (i, init) in config.init.iter_mut().flatten().enumerate() {
        resolve_one(init, format!("init[{i}]"));
    }
    for (section, list) in [
        ("onboot", &mut config.onboot),
        ("onshutdown", &mut config.onshutdown),
        ("services", &mut config.services),
    ] {
        for (i, entry) in list.iter_mut().flatten().enumerate() {
            if let Some(image) = entry.value.image.as_mut() {
                resolve_one(image, format!("{section}[{i}].image"));
            }
        }
    }
    for (i, volume) in config.volumes.iter_mut().flatten().enumerate() {
        if let Some(image) = volume.value.image.as_mut() {
            resolve_one(image, format!("volumes[{i}].image"));
        }
    }
}

/// The parts of a package's `build.yml` that name its image.
#[derive(Debug, Deserialize)]
pub struct PackageName {
    pub image: Option<String>,
    pub org: Option<String>,
}

/// LinuxKit's default organisation for packages.
pub const DEFAULT_ORG: &str = "linuxkit";

fn package_tag(dir: &Path) -> Result<String, (String, String)> {
    let build_yml = dir.join("build.yml");
    if !build_yml.is_file() {
        return Err((
            format!(
                "the template needs the package folder {}, which has no build.yml",
                dir.display()
            ),
            "run sealkit from a checkout that contains the package sources, or replace the template with the \
             image it stands for (ORG/IMAGE:TAG)"
                .into(),
        ));
    }
    let text = super::read_text(&build_yml, super::MAX_FILE_BYTES).map_err(|e| (e.to_string(), String::new()))?;
    let name: PackageName = serde_saphyr::from_str(&text).map_err(|e| {
        (
            format!("{}: {}", build_yml.display(), e.without_snippet()),
            "fix the package's build.yml".into(),
        )
    })?;
    let image = name.image.filter(|s| !s.is_empty()).ok_or_else(|| {
        (
            format!("{} does not name its image", build_yml.display()),
            "add image: NAME to build.yml".into(),
        )
    })?;
    let org = name.org.filter(|s| !s.is_empty()).unwrap_or_else(|| DEFAULT_ORG.into());
    let hash = tree_hash(dir)?;
    Ok(format!("{org}/{image}:{hash}"))
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, (String, String)> {
    Command::new("git").arg("-C").arg(dir).args(args).output().map_err(|e| {
        (
            format!("cannot run git to hash package {}: {e}", dir.display()),
            "install git".into(),
        )
    })
}

/// The tag `linuxkit pkg build` gives a package: its git tree hash, `-dirty` if it has changes.
fn tree_hash(dir: &Path) -> Result<String, (String, String)> {
    let not_in_git = || {
        (
            format!(
                "package {} is not in a git checkout, so its tag (the git tree hash) is unknown",
                dir.display()
            ),
            "commit the package, or replace the template with the image it stands for (ORG/IMAGE:TAG)".to_owned(),
        )
    };
    let out = git(dir, &["rev-parse", "HEAD:./"])?;
    if !out.status.success() {
        return Err(not_in_git());
    }
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if hash.is_empty() {
        return Err(not_in_git());
    }
    let changed = git(dir, &["status", "--porcelain", "--", "."])?;
    let dirty = !changed.status.success() || !changed.stdout.is_empty();
    Ok(if dirty { format!("{hash}-dirty") } else { hash })
}
