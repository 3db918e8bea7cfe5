//! Errors of the image stage: each names the image, and where it matters the blob, layer and path.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{image}: {message}\n  hint: {hint}")]
    Invalid {
        image: String,
        message: String,
        hint: String,
    },

    #[error("{image}: layer {layer}: {path}: {message}\n  hint: {hint}")]
    Layer {
        image: String,
        layer: String,
        path: String,
        message: String,
        hint: String,
    },

    #[error("{reference}: not in the local store\n  hint: {hint}")]
    NotFound { reference: String, hint: String },

    #[error("{image}: registry {registry}: {message}\n  hint: {hint}")]
    Registry {
        image: String,
        registry: String,
        message: String,
        hint: String,
    },
}

impl ImageError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    pub fn invalid(image: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        ImageError::Invalid {
            image: image.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ImageError>;
