//! Inspection: facts about what each component image contains. Inspectors state facts; every
//! judgement is left to policy.

pub mod elf;
pub mod gobuild;
pub mod rustdeps;
pub mod sbom;
pub mod scan;
