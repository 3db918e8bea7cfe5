//! Data flows one way (docs/architecture.md): a module of src/ may use the modules on its own
//! floor or below, never one above. This test fails naming each import that runs back up.

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest floor first; modules on one floor may use each other.
const FLOORS: &[&[&str]] = &[
    &[
        "caps",
        "codes",
        "progress",
        "reference",
        "epoch",
        "party",
        "keys",
        "certificates",
        "dsse",
        "authenticode",
        "secureboot",
        "bundle",
        "sigstore",
    ],
    &["config"],
    &["image"],
    &["trust"],
    &["effective"],
    &["plan"],
    &["inspect"],
    &["vuln"],
    &["evidence"],
    &["policy"],
    &["report"],
    &["build"],
    &["attest"],
    &["publish"],
    &["verify"],
    &["gate"],
];

fn rank_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&module))
}

/// The top-level modules a source file names as `crate::NAME`, also inside `crate::{A, B::c}`.
fn crate_uses(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut used = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::` or a longer identifier
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                used.push(name);
            }
        } else {
            used.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    used
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_higher_floor() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    files.sort();
    let mut upward: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        // The binary's own modules sit above every floor.
        if matches!(top, "main" | "lib" | "cli") {
            continue;
        }
        let Some(own) = rank_of(top) else {
            unplaced.push(top.to_owned());
            continue;
        };
        for used in crate_uses(&std::fs::read_to_string(file).unwrap()) {
            if rank_of(&used).is_some_and(|r| r > own) {
                upward.entry(relative.display().to_string()).or_default().push(used);
            }
        }
    }
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules on no floor (add them to FLOORS in tests/layering.rs): {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "imports that run back up the floors (caps → config → image → effective → plan → inspect → vuln → \
         evidence → policy → report → build → attest → verify → gate): {upward:#?}"
    );
}

#[test]
fn crate_uses_are_found_in_groups_and_paths() {
    let text = "use crate::{image::Store, config};\nfn f() { crate::build::x(); } // crate::gate\n$crate::no";
    assert_eq!(crate_uses(text), ["image", "config", "build"]);
}
