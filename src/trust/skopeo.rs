//! skopeo's directory layout (`skopeo copy docker://… dir:PATH`): `manifest.json`, the blobs by
//! digest, a `version` file, and the image's signatures as `signature-1`, `signature-2` … The
//! form in which images are carried to air-gapped review, signatures included.

use std::path::Path;

use super::cosign::{MAX_PAYLOAD, Signature};

/// A manifest larger than this is not one (the store's limit for manifests).
const MAX_MANIFEST: u64 = 4 << 20;
/// Signatures read at most: a layout with more is refused rather than read without end.
const MAX_SIGNATURES: usize = 256;

/// The layout's manifest bytes and its signatures, each read or why it could not be.
pub struct SkopeoDir {
    pub manifest: Vec<u8>,
    pub signatures: Vec<Result<Signature, String>>,
}

/// Reads the manifest and the signatures of the layout at `dir`.
pub fn read(dir: &Path) -> Result<SkopeoDir, String> {
    let manifest_path = dir.join("manifest.json");
    let manifest =
        read_bounded(&manifest_path, MAX_MANIFEST).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut signatures = Vec::new();
    for n in 1.. {
        let path = dir.join(format!("signature-{n}"));
        if !path.exists() {
            break;
        }
        if n > MAX_SIGNATURES {
            return Err(format!("{}: more than {MAX_SIGNATURES} signatures", dir.display()));
        }
        signatures.push(
            read_bounded(&path, 4 * MAX_PAYLOAD as u64)
                .and_then(|bytes| Signature::from_sigstore_file(&bytes))
                .map_err(|e| format!("signature-{n}: {e}")),
        );
    }
    Ok(SkopeoDir { manifest, signatures })
}

fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}
