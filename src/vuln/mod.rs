//! Known vulnerabilities: advisories (OSV, the Debian Security Tracker) imported into a local,
//! content-addressed database (`db`), and the packages an inspection catalogued matched against
//! them (`matching`), each ecosystem in its own version order (`version`); VEX statements
//! (`vex`) then mark the matches their authors say do not apply. Scanning never
//! touches the network: the database is what was imported, named by its digest.

pub mod advisory;
pub mod db;
pub mod debian;
pub mod matching;
pub mod osv;
pub mod scan;
pub mod severity;
pub mod update;
pub mod version;
pub mod vex;

#[cfg(test)]
mod tests;

use serde::Serialize;

crate::error_codes! {
    Read = "vulndb-read": "An advisory file or folder, or the database's folder, cannot be read.",
    Format = "vulndb-format": "A file given to vulndb import is neither OSV JSON, an OSV zip export nor the Debian Security Tracker's JSON.",
    Malformed = "vulndb-malformed": "An OSV entry or a tracker entry is not what its schema says (the file and the entry are named).",
    Zip = "vulndb-zip": "An OSV export is not a readable zip archive, or one of its members cannot be inflated.",
    TooLarge = "vulndb-too-large": "An advisory file, a zip member or a whole export is larger or more numerous than its bound.",
    Empty = "vulndb-empty": "The inputs of an import hold no advisory, and an empty database would find nothing.",
    Missing = "vulndb-missing": "No advisory database has been imported into the folder (sealkit vulndb import).",
    Corrupt = "vulndb-corrupt": "The stored advisory database does not hash to its digest, or cannot be read back.",
    Write = "vulndb-write": "The advisory database cannot be written into its folder.",
    Fetch = "vulndb-fetch": "vulndb update could not fetch an export (no network, a refused connection, an HTTP error): the current database is unchanged.",
    VexRead = "vex-read": "A VEX file given with --vex cannot be read.",
    VexFormat = "vex-format": "A --vex file is neither OpenVEX, CycloneDX, a DSSE envelope nor a Sigstore bundle.",
    VexMalformed = "vex-malformed": "A VEX document is not what its specification says: bad JSON, an unknown @context, status or justification, a not_affected statement without a justification (the file and the statement are named).",
    VexTooLarge = "vex-too-large": "A VEX file is larger than 64 MiB, or holds more statements or products than its bound.",
    VexUnsigned = "vex-unsigned": "--vex-key requires every VEX to be signed, and this file is a bare document.",
    VexSignature = "vex-signature": "A signed VEX's signature was made by none of the --vex-key keys, or is of a kind sealkit does not verify.",
}

/// Why advisories could not be imported or the database opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}\n  hint: {hint}")]
pub struct VulnError {
    pub code: Code,
    pub message: String,
    pub hint: String,
}

impl VulnError {
    pub fn new(code: Code, message: impl Into<String>, hint: impl Into<String>) -> Self {
        VulnError {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }
}
