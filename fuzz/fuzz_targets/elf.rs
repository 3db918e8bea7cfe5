//! Any bytes as an ELF file: the inspector must return facts or a `malformed` fact, never panic,
//! never allocate from an unchecked count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit::inspect::elf;

fuzz_target!(|data: &[u8]| {
    // The magic is given so the fuzzer need not find it; but the seeds are real binaries that
    // carry it already, and a second copy made every one of them an invalid ELF class.
    let bytes = if data.starts_with(b"\x7fELF") {
        data.to_vec()
    } else {
        [b"\x7fELF", data].concat()
    };
    let _ = elf::inspect(&bytes);
    let _ = sealkit::inspect::gobuild::parse(data);
    let _ = sealkit::inspect::rustdeps::parse(data);
});
