//! Any bytes as a LinuxKit configuration: parse, validate and compute the effective config.
//! Must never panic, whatever the input; errors are the expected outcome for most inputs.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sealkit::config::{self, Loaded, Origins};
use sealkit::effective::{self, ImageFacts};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok((config, warnings)) = config::parse(text, Path::new("fuzz.yml")) else {
        return;
    };
    let loaded = Loaded {
        config,
        origins: Origins::default(),
        warnings,
    };
    let _ = effective::compute(&loaded, &|_, _| Ok(ImageFacts::default()));
});
