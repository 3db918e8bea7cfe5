//! SHA-256 content digests, and readers that hash what flows through them.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A `sha256:<64 hex>` content digest; the only algorithm sealkit writes or accepts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    hex: String,
}

impl Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Digest {
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    fn from_hasher(hasher: Sha256) -> Self {
        Digest {
            hex: hex::encode(hasher.finalize()),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a sha256 digest (sha256: followed by 64 lower-case hex digits)")]
pub struct BadDigest(pub String);

impl FromStr for Digest {
    type Err = BadDigest;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix("sha256:").ok_or_else(|| BadDigest(s.to_owned()))?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(BadDigest(s.to_owned()));
        }
        Ok(Digest { hex: hex.to_owned() })
    }
}

impl From<&Digest> for oci_spec::image::Digest {
    fn from(d: &Digest) -> Self {
        // A validated sha256 digest is always a valid OCI digest.
        oci_spec::image::Digest::from_str(&d.to_string()).unwrap_or_else(|_| unreachable!("validated digest"))
    }
}

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = BadDigest;

    fn try_from(d: &oci_spec::image::Digest) -> Result<Self, Self::Error> {
        d.to_string().parse()
    }
}

/// Hashes everything read through it; [`HashingReader::finish`] gives the digest and length.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    length: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            length: 0,
        }
    }

    pub fn finish(self) -> (Digest, u64) {
        (Digest::from_hasher(self.hasher), self.length)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.length += n as u64;
        Ok(n)
    }
}

/// Hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    length: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            length: 0,
        }
    }

    pub fn finish(self) -> (W, Digest, u64) {
        (self.inner, Digest::from_hasher(self.hasher), self.length)
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.length += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a blob and fails at its end unless the bytes hash to `expected` (and, when known, have
/// the expected size): content is never trusted because of where it was found.
pub struct VerifyingReader<R> {
    inner: HashingReader<R>,
    expected: Digest,
    size: Option<u64>,
    checked: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, size: Option<u64>) -> Self {
        VerifyingReader {
            inner: HashingReader::new(inner),
            expected,
            size,
            checked: false,
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(size) = self.size
            && self.inner.length > size
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {} is longer than its descriptor's {size} bytes", self.expected),
            ));
        }
        if n == 0 && !buf.is_empty() && !self.checked {
            self.checked = true;
            let got = Digest::from_hasher(self.inner.hasher.clone());
            if got != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blob {} does not match its digest: its content hashes to {got}",
                        self.expected
                    ),
                ));
            }
            if let Some(size) = self.size
                && self.inner.length != size
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blob {} has {} bytes, its descriptor says {size}",
                        self.expected, self.inner.length
                    ),
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let d = Digest::of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        for bad in [
            "",
            "sha256:",
            "sha512:00",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn verifying_reader_rejects_tampered_content() {
        let good = Digest::of(b"hello");
        let mut out = Vec::new();
        VerifyingReader::new(&b"hello"[..], good.clone(), Some(5))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"hello");
        let err = VerifyingReader::new(&b"hellO"[..], good.clone(), None)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("does not match its digest"));
        let err = VerifyingReader::new(&b"hello!"[..], good, Some(5))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("longer than"));
    }
}
