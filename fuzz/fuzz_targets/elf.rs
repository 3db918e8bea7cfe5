//! Any bytes as an ELF file: the inspector must return facts or a `malformed` fact, never panic,
//! never allocate from an unchecked count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit::inspect::elf;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend_from_slice(data);
    let _ = elf::inspect(&bytes);
    let _ = sealkit::inspect::gobuild::parse(data);
    let _ = sealkit::inspect::rustdeps::parse(data);
});
