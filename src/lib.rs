//! sealkit: build minimal LinuxKit-style OS images and refuse to sign one until it is proven clean.
//!
//! The pipeline runs in one direction (docs/architecture.md):
//! config → resolve → unpack → inspect → evidence → policy → build → attest+sign → publish.
//! Each stage is a library module; the `sealkit` binary is a thin shell over them.

pub mod attest;
pub mod authenticode;
pub mod build;
pub mod bundle;
pub mod caps;
pub mod certificates;
pub mod codes;
pub mod config;
pub mod dsse;
pub mod effective;
pub mod epoch;
pub mod evidence;
pub mod gate;
pub mod image;
pub mod inspect;
pub mod keys;
pub mod party;
pub mod plan;
pub mod policy;
pub mod progress;
pub mod publish;
pub mod reference;
pub mod report;
pub mod secureboot;
pub mod sigstore;
pub mod trust;
pub mod verify;
pub mod vuln;

/// Every stable error code, with the stage that raises it and what it means: the table of
/// docs/errors.md. Codes are unique across stages.
pub fn error_codes() -> Vec<(&'static str, &'static str, &'static str)> {
    fn stage<C: Copy>(
        name: &'static str,
        codes: &'static [C],
        text: impl Fn(C) -> (&'static str, &'static str),
    ) -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
        codes.iter().map(move |&c| {
            let (code, meaning) = text(c);
            (name, code, meaning)
        })
    }
    stage("config", config::Code::ALL, |c| (c.as_str(), c.meaning()))
        .chain(stage("image", image::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("trust", trust::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("effective", effective::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("plan", plan::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("build", build::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("policy", policy::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("epoch", epoch::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("keys", keys::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("sigstore", sigstore::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("attest", attest::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("verify", verify::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("publish", publish::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("vuln", vuln::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("report", report::html::Code::ALL, |c| (c.as_str(), c.meaning())))
        .chain(stage("gate", gate::Code::ALL, |c| (c.as_str(), c.meaning())))
        .collect()
}
