//! Sigstore verification, offline: trusted roots, transparency-log entries and bundles signed
//! by a key or by a Fulcio certificate. The keyless half of what `sealkit verify` and the
//! trust policy check; sigstore-conformance's `bundle-verify` suite is its yardstick
//! (tests/sigstore_conformance.rs). Which trusted root is used is decided by
//! `installed::select`; apart from verification, `tuf` refreshes it over TUF
//! (`sealkit trust update`), the one part that goes online, and only when asked.

crate::error_codes! {
    BadTrustedRoot = "bad-trusted-root": "A Sigstore trusted root (trusted_root.json) cannot be read or trusts something as written that it must not (an unknown media type, a window without a start, a key or certificate that does not parse).",
    BadBundleInput = "bad-bundle-input": "A bundle, key or artifact to verify cannot be read, or an artifact digest is not sha256:HEX.",
    TrustedRootCache = "trusted-root-cache": "The cache folder where `sealkit trust update` keeps the trusted root and its TUF metadata cannot be written, or what it holds is corrupt (a root that differs from its record or does not parse): run `sealkit trust update` again, or delete it.",
    BadTufInput = "bad-tuf-input": "`sealkit trust update` was given a repository it cannot start from: a URL that is not http, https or file, a repository other than the public-good one without --tuf-root, or a --tuf-root that is not root metadata signed by its own keys.",
    TufUnreachable = "tuf-unreachable": "The TUF repository could not be reached or did not serve a file (a refused connection, an unknown host, a timeout, an HTTP error); nothing was changed.",
    TufNotVerified = "tuf-not-verified": "What the TUF repository served did not verify (signatures below a threshold, expired metadata, a version rolled back, a target whose hash or length differs, no trusted_root.json target); nothing was installed. Exits 1.",
}

pub mod installed;
pub mod sct;
pub mod timestamp;
pub mod tlog;
pub mod trusted_root;
pub mod tuf;
pub mod verify;

pub use installed::{RootError, Selected, select};
pub use trusted_root::TrustedRoot;
pub use verify::{Artifact, Identity, Signer, Tlog, Verified, verify};
