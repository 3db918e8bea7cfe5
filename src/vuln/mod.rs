//! Known vulnerabilities: advisories (OSV, the Debian Security Tracker) imported into a local,
//! content-addressed database, and the packages an inspection catalogued matched against them,
//! each ecosystem in its own version order (`version`).

pub mod version;
