//! Image references, in the skopeo/LinuxKit conventions: `oci:DIR[:TAG]`,
//! `docker-archive:FILE`, `dir:ROOTFS`, or a registry reference `[REGISTRY/]NAME[:TAG][@DIGEST]`
//! normalised as Docker does (`redis` → `docker.io/library/redis`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use oci_spec::distribution::Reference;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// An OCI image layout on disk, optionally naming one of its tagged manifests.
    OciLayout { dir: PathBuf, tag: Option<String> },
    /// A `docker save` tarball.
    DockerArchive { path: PathBuf },
    /// A plain folder used as the image's root filesystem.
    Dir { path: PathBuf },
    /// An image in a registry (or the local store under that name).
    Registry(Box<Reference>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReferenceError {
    pub message: String,
    pub hint: &'static str,
}

impl ReferenceError {
    fn new(message: String, hint: &'static str) -> Self {
        ReferenceError { message, hint }
    }
}

const REGISTRY_HINT: &str = "write NAME[:TAG][@sha256:DIGEST] in lower case (e.g. linuxkit/getty:a86d74c8…), \
     or oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS for local images";

impl FromStr for ImageRef {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ReferenceError::new(
                "the image reference is empty".into(),
                REGISTRY_HINT,
            ));
        }
        if s != s.trim() {
            return Err(ReferenceError::new(
                format!("image reference {s:?} has leading or trailing white space"),
                "remove the spaces around the reference",
            ));
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            // skopeo splits at the first colon: the directory may not contain one.
            let (dir, tag) = match rest.split_once(':') {
                Some((dir, tag)) => (dir, Some(tag.to_owned())),
                None => (rest, None),
            };
            if dir.is_empty() {
                return Err(ReferenceError::new(
                    format!("{s:?} names no directory"),
                    "write oci:DIR or oci:DIR:TAG",
                ));
            }
            if tag.as_deref() == Some("") {
                return Err(ReferenceError::new(
                    format!("{s:?} has an empty tag"),
                    "write oci:DIR or oci:DIR:TAG",
                ));
            }
            return Ok(ImageRef::OciLayout { dir: dir.into(), tag });
        }
        if let Some(path) = s.strip_prefix("docker-archive:") {
            if path.is_empty() {
                return Err(ReferenceError::new(
                    format!("{s:?} names no file"),
                    "write docker-archive:FILE.tar",
                ));
            }
            return Ok(ImageRef::DockerArchive { path: path.into() });
        }
        if let Some(path) = s.strip_prefix("dir:") {
            if path.is_empty() {
                return Err(ReferenceError::new(format!("{s:?} names no folder"), "write dir:PATH"));
            }
            return Ok(ImageRef::Dir { path: path.into() });
        }
        Reference::from_str(s)
            .map(|r| ImageRef::Registry(Box::new(r)))
            .map_err(|e| ReferenceError::new(format!("{s:?} is not a valid image reference: {e}"), REGISTRY_HINT))
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::OciLayout { dir, tag: Some(tag) } => write!(f, "oci:{}:{tag}", dir.display()),
            ImageRef::OciLayout { dir, tag: None } => write!(f, "oci:{}", dir.display()),
            ImageRef::DockerArchive { path } => write!(f, "docker-archive:{}", path.display()),
            ImageRef::Dir { path } => write!(f, "dir:{}", path.display()),
            ImageRef::Registry(r) => f.write_str(&r.whole()),
        }
    }
}

impl ImageRef {
    /// The last path component of a registry repository (`linuxkit/getty` → `getty`): the name
    /// LinuxKit gives the package folder that built it.
    pub fn package_name(&self) -> Option<&str> {
        match self {
            ImageRef::Registry(r) => r.repository().rsplit('/').next(),
            _ => None,
        }
    }

    pub fn repository(&self) -> Option<&str> {
        match self {
            ImageRef::Registry(r) => Some(r.repository()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ImageRef {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn registry_names_are_normalised_like_docker() {
        assert_eq!(parse("redis").to_string(), "docker.io/library/redis:latest");
        assert_eq!(parse("linuxkit/getty:abc").to_string(), "docker.io/linuxkit/getty:abc");
        assert_eq!(parse("127.0.0.1:5000/x/y:1").to_string(), "127.0.0.1:5000/x/y:1");
        let pinned = parse("linuxkit/init:v1@sha256:0000000000000000000000000000000000000000000000000000000000000000");
        assert!(
            pinned
                .to_string()
                .ends_with("@sha256:0000000000000000000000000000000000000000000000000000000000000000")
        );
        assert_eq!(parse("linuxkit/getty:abc").package_name(), Some("getty"));
    }

    #[test]
    fn transports() {
        assert_eq!(
            parse("oci:/tmp/layout:v1"),
            ImageRef::OciLayout {
                dir: "/tmp/layout".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            parse("oci:layout"),
            ImageRef::OciLayout {
                dir: "layout".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("docker-archive:a.tar"),
            ImageRef::DockerArchive { path: "a.tar".into() }
        );
        assert_eq!(parse("dir:rootfs"), ImageRef::Dir { path: "rootfs".into() });
    }

    #[test]
    fn bad_references_are_rejected_with_a_hint() {
        for bad in [
            "",
            " redis",
            "library/UPPER",
            "oci:",
            "oci:dir:",
            "docker-archive:",
            "dir:",
            "a@sha256:xyz",
            "a:b:c",
        ] {
            let err = bad.parse::<ImageRef>().expect_err(bad);
            assert!(!err.hint.is_empty());
        }
    }
}
