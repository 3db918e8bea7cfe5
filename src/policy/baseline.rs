//! The baseline policy, built into the binary so that `sealkit check` works from any folder:
//! the same files as policies/baseline/ (a test keeps this list equal to the folder's), less
//! the unit tests and their data, which `sealkit policy test policies/baseline` reads from disk.

/// The prefix of the baseline's file names in reports.
pub const PREFIX: &str = "baseline/";

macro_rules! baseline {
    ($($name:literal),+ $(,)?) => {
        /// Each file's name in policies/baseline/ and its text.
        pub const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../policies/baseline/", $name))),)+
        ];
    };
}

baseline!(
    "binaries.rego",
    "files.rego",
    "kernel-config.json",
    "kernel.rego",
    "kernel_config.rego",
    "lib.rego",
    "privileges.rego",
    "secrets.rego",
    "setuid-allowlist.json",
    "trust.rego",
    "vulnerabilities.rego",
);

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_baseline_is_the_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/baseline");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with("_test.rego") && name != "testdata")
            .collect();
        on_disk.sort();
        let built_in: Vec<&str> = super::FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            built_in, on_disk,
            "policies/baseline/ and src/policy/baseline.rs list other files"
        );
    }
}
