//! Component images: references and (in later stages) transports, the local store and layers.

pub mod reference;

pub use reference::{ImageRef, ReferenceError};
