//! sealkit: build minimal LinuxKit-style OS images and refuse to sign one until it is proven clean.
//!
//! The pipeline runs in one direction (docs/architecture.md):
//! config → resolve → unpack → inspect → evidence → policy → build → attest+sign → publish.
//! Each stage is a library module; the `sealkit` binary is a thin shell over them.

pub mod build;
pub mod caps;
pub mod config;
pub mod effective;
pub mod image;
pub mod inspect;
pub mod reference;
pub mod report;
