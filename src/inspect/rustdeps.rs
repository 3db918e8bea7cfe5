//! cargo-auditable's `.dep-v0` section: the crates a Rust binary was built from, as
//! zlib-compressed JSON. Decompression is bounded: the section is untrusted input.

use std::io::Read;

use serde::{Deserialize, Serialize};

/// More than any real dependency tree needs; a section inflating past it is refused.
pub const MAX_JSON_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustDependencies {
    pub packages: Vec<RustPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustPackage {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry`…
    pub source: String,
    /// `runtime` (default) or `build`.
    #[serde(default = "runtime")]
    pub kind: String,
    #[serde(default)]
    pub root: bool,
    #[serde(default, skip_serializing)]
    pub dependencies: Vec<usize>,
}

fn runtime() -> String {
    "runtime".into()
}

pub fn parse(section: &[u8]) -> Result<RustDependencies, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(section)
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("not zlib data: {e}"))?;
    if json.len() as u64 > MAX_JSON_BYTES {
        return Err(format!("inflates to more than {MAX_JSON_BYTES} bytes"));
    }
    serde_json::from_slice(&json).map_err(|e| format!("not cargo-auditable JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_packages() {
        let deps = parse(&zlib(
            br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true,"dependencies":[1]},{"name":"serde","version":"1.0.200","source":"crates.io"}]}"#,
        ))
        .unwrap();
        assert_eq!(deps.packages.len(), 2);
        assert!(deps.packages[0].root);
        assert_eq!(deps.packages[1].kind, "runtime");
    }

    #[test]
    fn bombs_and_garbage_are_errors() {
        assert!(parse(b"not zlib").is_err());
        let bomb = zlib(&vec![b' '; (MAX_JSON_BYTES + 10) as usize]);
        assert!(parse(&bomb).unwrap_err().contains("more than"));
        assert!(parse(&zlib(b"{}")).is_err());
    }
}
