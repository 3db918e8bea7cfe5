//! Errors of the image stage: each names the image, and where it matters the blob, layer and path,
//! says what to do, and carries a stable [`Code`] (docs/errors.md) for machines.

use std::path::PathBuf;

crate::error_codes! {
    Io = "io": "A file could not be read or written (the store, a source, an output).",
    BadReference = "bad-reference": "The text is not an image reference.",
    NotInStore = "not-in-store": "The image is not in the local store (and was not to be pulled).",
    BadSource = "bad-source": "An OCI layout, docker-archive or folder is not one, or lacks a part it names.",
    NoSuchPlatform = "no-such-platform": "Neither the index nor the image offers the platform asked for.",
    BadMetadata = "bad-metadata": "A manifest, index or config is not what it claims, or contradicts another.",
    DigestMismatch = "digest-mismatch": "Content does not hash to its digest, or its size differs from its descriptor.",
    CorruptStore = "corrupt-store": "A stored blob is corrupt or missing: the store needs the image again.",
    LimitExceeded = "limit-exceeded": "Something is larger or more numerous than a documented limit (docs/limits.md).",
    HostileLayer = "hostile-layer": "A layer tries to place or point something outside the image, or to hide one file behind another.",
    CorruptLayer = "corrupt-layer": "A layer is not a readable tar stream, or ends inside an entry.",
    Unsupported = "unsupported": "A format, version or entry type sealkit does not read.",
    Lock = "lock": "The lock file is unreadable, or pins another image than the one found.",
    Registry = "registry": "The registry refused, failed or served something else than asked.",
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: {source}\n  hint: check that the path exists, is readable and that its disk has room", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{image}: {message}\n  hint: {hint}")]
    Invalid {
        code: Code,
        image: String,
        message: String,
        hint: String,
    },

    /// A problem inside one layer: the entry path is empty when it concerns the whole layer.
    #[error("{image}: layer {layer}: {}{message}\n  hint: {hint}", entry_prefix(path))]
    Layer {
        code: Code,
        image: String,
        layer: String,
        path: String,
        message: String,
        hint: String,
    },

    #[error("{reference}: not in the local store {}\n  hint: {hint}", store.display())]
    NotFound {
        reference: String,
        store: PathBuf,
        hint: String,
    },

    #[error("{0}")]
    Epoch(#[from] crate::epoch::EpochError),

    #[error("{image}: registry {registry}: {message}\n  hint: {hint}")]
    Registry {
        image: String,
        registry: String,
        message: String,
        hint: String,
    },
}

fn entry_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl ImageError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    pub fn invalid(code: Code, image: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        ImageError::Invalid {
            code,
            image: image.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The stable code (docs/errors.md): the image stage's own, or the epoch's.
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Io { .. } => Code::Io.as_str(),
            ImageError::Invalid { code, .. } | ImageError::Layer { code, .. } => code.as_str(),
            ImageError::NotFound { .. } => Code::NotInStore.as_str(),
            ImageError::Epoch(e) => e.code().as_str(),
            ImageError::Registry { .. } => Code::Registry.as_str(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ImageError>;

/// `items` on one line, the first few in full: a note about many problems stays one line, and
/// shows enough to act on.
pub(crate) fn examples(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut line = items[..items.len().min(SHOWN)].join("; ");
    if items.len() > SHOWN {
        line.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    line
}

/// "1 entry", "2 entries".
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_layer_error_has_no_empty_segment() {
        let e = ImageError::Layer {
            code: Code::CorruptLayer,
            image: "oci:x".into(),
            layer: "sha256:ab".into(),
            path: String::new(),
            message: "truncated".into(),
            hint: "fetch it again".into(),
        };
        assert_eq!(
            e.to_string(),
            "oci:x: layer sha256:ab: truncated\n  hint: fetch it again"
        );
    }

    #[test]
    fn examples_stay_on_one_line() {
        let items: Vec<String> = (1..=5).map(|i| format!("item {i}")).collect();
        assert_eq!(examples(&items[..2]), "item 1; item 2");
        assert_eq!(examples(&items), "item 1; item 2; item 3; and 2 more");
        assert_eq!(plural(1, "entry", "entries"), "1 entry");
        assert_eq!(plural(9000, "entry", "entries"), "9000 entries");
    }

    #[test]
    fn codes_are_their_serde_names() {
        for code in Code::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
