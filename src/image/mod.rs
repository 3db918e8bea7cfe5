//! Component images: references, the verified local store, transports and layers.

pub mod archive;
pub mod attestation;
pub mod digest;
pub mod error;
pub mod export;
pub mod folder;
pub mod gunzip;
pub mod lock;
pub mod registry;
pub mod resolve;
pub mod rootfs;
pub mod signatures;
pub mod skopeo;
pub mod store;
pub mod tarball;
pub mod tarstream;

pub use crate::reference::{ImageRef, ReferenceError};
pub use digest::Digest;
pub use error::{Code, ImageError, Result};
pub use resolve::{Platform, ResolvedImage, import, resolve};
pub use rootfs::Rootfs;
pub use store::Store;
