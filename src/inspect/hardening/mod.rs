//! Hardening facts beyond the binaries: what each container may do at run time
//! ([`privileges`]) and what its files allow ([`rootfs`]). Facts only; policy judges them.

pub mod privileges;
pub mod rootfs;

pub use privileges::{Privileges, privileges};
pub use rootfs::{RootfsFacts, rootfs_facts};
