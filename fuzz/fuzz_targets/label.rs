//! Any bytes as an `org.mobyproject.config` label, then the effective config of a container that
//! uses it. Must never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sealkit::config::label::parse_label;
use sealkit::config::{self, Loaded, Origins};
use sealkit::effective::{self, ImageFacts};

const YAML: &str =
    "services:\n  - name: s\n    image: x:1\n    capabilities.add: [CAP_KILL]\n    binds.add: [\"/a:/a\"]\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(label) = parse_label(text, "label.json") else {
        return;
    };
    let Ok((config, warnings)) = config::parse(YAML, Path::new("fuzz.yml")) else {
        return;
    };
    let loaded = Loaded {
        config,
        origins: Origins::default(),
        warnings,
    };
    let facts = |_: &str, _: &Path| Ok(ImageFacts { label: Some(label.clone()), defaults: None });
    let _ = effective::compute(&loaded, &facts);
});
