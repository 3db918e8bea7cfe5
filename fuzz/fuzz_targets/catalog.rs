//! Any bytes as each package database and manifest the catalogers read (dpkg status, apk
//! installed, rpmdb in sqlite and Berkeley DB, Python METADATA/RECORD, package.json, os-release, an SBOM file), and as one
//! rpm header blob (random bytes rarely make a valid sqlite file, so the header parser is fed
//! directly): they must report problems and go on, never panic.
#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use sealkit::image::Rootfs;
use sealkit::inspect::sbom;

const PATHS: [&str; 10] = [
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/python3/dist-packages/x-1.dist-info/METADATA",
    "usr/lib/python3/dist-packages/x-1.dist-info/RECORD",
    "srv/node_modules/x/package.json",
    "etc/os-release",
    "usr/share/sbom/x.spdx.json",
    "var/lib/dpkg/info/x.list",
];

fuzz_target!(|data: &[u8]| {
    let files: BTreeMap<PathBuf, Vec<u8>> = PATHS.iter().map(|p| (PathBuf::from(p), data.to_vec())).collect();
    let _ = sbom::catalog(&files, &Rootfs::default(), &[]);
    let _ = sbom::catalog::rpm::record(data);
});
