//! Sigstore verification, offline: trusted roots, transparency-log entries and bundles signed
//! by a key or by a Fulcio certificate. The keyless half of what `sealkit verify` and the
//! trust policy check; sigstore-conformance's `bundle-verify` suite is its yardstick
//! (tests/sigstore_conformance.rs).

crate::error_codes! {
    BadTrustedRoot = "bad-trusted-root": "A Sigstore trusted root (trusted_root.json) cannot be read or trusts something as written that it must not (an unknown media type, a window without a start, a key or certificate that does not parse).",
    BadBundleInput = "bad-bundle-input": "A bundle, key or artifact to verify cannot be read, or an artifact digest is not sha256:HEX.",
}

pub mod sct;
pub mod timestamp;
pub mod tlog;
pub mod trusted_root;
pub mod verify;

pub use trusted_root::TrustedRoot;
pub use verify::{Artifact, Identity, Signer, Verified, verify};
