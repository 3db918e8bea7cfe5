//! Component images: references, the verified local store, transports and layers.

pub mod digest;
pub mod error;
pub mod reference;
pub mod store;

pub use digest::Digest;
pub use error::{ImageError, Result};
pub use reference::{ImageRef, ReferenceError};
pub use store::Store;
