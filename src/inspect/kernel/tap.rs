//! The kernel image's configuration sources, collected on the flattening pass ([`KernelTap`]):
//! nothing is read from a layer again, and kernel-dev.tar is never held whole.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::{ConfigFact, DEV_TAR, MAX_CONFIG_BYTES, Named, Sources, config_of, is_config_file};
use crate::image::Rootfs;
use crate::image::rootfs::{ContentRef, Tap};

/// The largest kernel binary kept for its IKCONFIG blob. Boot images are 5–20 MiB; a vmlinux
/// (an ELF kernel, uncompressed) may be 100 MiB, which is [`super::MAX_VMLINUX_BYTES`].
pub const MAX_BINARY_BYTES: u64 = super::MAX_VMLINUX_BYTES;

/// How many chunks of kernel-dev.tar may wait for its reader: the pass waits beyond that.
const QUEUED_CHUNKS: usize = 4;

/// What one file of the image gave.
enum Collected {
    Bytes(Vec<u8>),
    TooLarge(u64),
    /// kernel-dev.tar, read by its own thread as the bytes went past.
    DevTar(ConfigFact),
}

/// Collects, on the pass, the files of a kernel image that can say how its kernel was
/// configured (docs/kernel.md): the binary (`binary`, at the root), kernel-dev.tar, and the
/// configuration files. [`KernelTap::finish_in`] reads them as [`config_of`] does, and only
/// those the flattened filesystem still has.
pub struct KernelTap {
    binary: String,
    collected: BTreeMap<ContentRef, Collected>,
    current: Option<Current>,
}

enum Current {
    Keep {
        at: ContentRef,
        bytes: Vec<u8>,
        limit: u64,
    },
    Stream {
        at: ContentRef,
        sender: Option<SyncSender<Vec<u8>>>,
        reader: JoinHandle<ConfigFact>,
    },
}

impl KernelTap {
    /// `binary` is the kernel binary's path in the image (LinuxKit's `kernel.binary`, by
    /// default `kernel`).
    pub fn new(binary: &str) -> KernelTap {
        KernelTap {
            binary: binary.trim_start_matches('/').to_owned(),
            collected: BTreeMap::new(),
            current: None,
        }
    }

    /// The configuration of the kernel in `rootfs` (the view the files were shown from), or
    /// `None` when it has neither the kernel binary nor kernel-dev.tar: it is no kernel image.
    pub fn finish_in(mut self, rootfs: &Rootfs) -> Option<ConfigFact> {
        let mut binary = None;
        let mut dev_tar = None;
        let mut config_files = Vec::new();
        for (path, entry) in rootfs.files() {
            let Some(at) = entry.content else { continue };
            let Some(collected) = self.collected.remove(&at) else {
                continue;
            };
            let name = path.to_string_lossy().into_owned();
            match collected {
                Collected::DevTar(fact) => dev_tar = Some(fact),
                other if name == self.binary => binary = Some((name, other)),
                other => config_files.push((name, other)),
            }
        }
        if binary.is_none() && dev_tar.is_none() {
            return None;
        }
        let mut fact = dev_tar.unwrap_or(ConfigFact {
            config: None,
            unread: Vec::new(),
        });
        if fact.config.is_some() {
            return Some(fact);
        }
        let mut sources = Sources::default();
        for (path, collected) in &config_files {
            match collected {
                Collected::Bytes(bytes) => sources.config_files.push(Named {
                    path: path.clone(),
                    data: bytes.as_slice(),
                }),
                Collected::TooLarge(size) => fact.unread.push(super::Unread {
                    source: path.clone(),
                    reason: format!("{size} bytes: larger than a configuration ({MAX_CONFIG_BYTES} bytes at most)"),
                }),
                Collected::DevTar(_) => {}
            }
        }
        let mut too_large = None;
        match &binary {
            Some((path, Collected::Bytes(bytes))) => {
                sources.binary = Some(Named {
                    path: path.clone(),
                    data: bytes.as_slice(),
                })
            }
            Some((path, Collected::TooLarge(size))) => {
                too_large = Some(super::Unread {
                    source: format!("IKCONFIG in {path}"),
                    reason: format!("{size} bytes: larger than a kernel ({MAX_BINARY_BYTES} bytes at most)"),
                })
            }
            _ => {}
        }
        let rest = config_of(sources);
        fact.config = rest.config;
        fact.unread.extend(rest.unread);
        // The binary is the last resort: it counts as tried only when nothing else gave one.
        if fact.config.is_none() {
            fact.unread.extend(too_large);
        }
        Some(fact)
    }

    fn wanted(&self, path: &str) -> Option<u64> {
        if path == self.binary {
            Some(MAX_BINARY_BYTES)
        } else if is_config_file(Path::new(path)) {
            // One more byte than a configuration may have, so that the parser says it is too large.
            Some(MAX_CONFIG_BYTES as u64 + 1)
        } else {
            None
        }
    }
}

fn join(path: &str, reader: JoinHandle<ConfigFact>) -> ConfigFact {
    reader.join().unwrap_or_else(|_| ConfigFact {
        config: None,
        unread: vec![super::Unread {
            source: path.to_owned(),
            reason: "its reader failed".into(),
        }],
    })
}

impl Tap for KernelTap {
    fn begin(&mut self, path: &Path, size: u64, at: ContentRef) -> bool {
        let path = path.to_string_lossy();
        self.current = if path == DEV_TAR {
            let (sender, receiver) = sync_channel(QUEUED_CHUNKS);
            let name = path.into_owned();
            let spawned = std::thread::Builder::new()
                .name("kernel-dev.tar".into())
                .spawn(move || {
                    let mut reader = ChannelReader {
                        receiver,
                        chunk: Vec::new(),
                        at: 0,
                    };
                    config_of(Sources {
                        dev_tar: Some(Named {
                            path: name,
                            data: &mut reader,
                        }),
                        ..Sources::default()
                    })
                });
            match spawned {
                Ok(reader) => Some(Current::Stream {
                    at,
                    sender: Some(sender),
                    reader,
                }),
                Err(e) => {
                    self.collected.insert(
                        at,
                        Collected::DevTar(ConfigFact {
                            config: None,
                            unread: vec![super::Unread {
                                source: DEV_TAR.into(),
                                reason: format!("no thread to read it: {e}"),
                            }],
                        }),
                    );
                    None
                }
            }
        } else {
            match self.wanted(&path) {
                Some(limit) if size <= limit => Some(Current::Keep {
                    at,
                    bytes: Vec::with_capacity(size as usize),
                    limit,
                }),
                Some(_) => {
                    // Not read: its size says enough.
                    self.collected.insert(at, Collected::TooLarge(size));
                    None
                }
                None => None,
            }
        };
        self.current.is_some()
    }

    fn chunk(&mut self, bytes: &[u8]) {
        match &mut self.current {
            Some(Current::Keep { bytes: kept, limit, .. }) => {
                // The size in the header is checked against the limit; this guards the bytes.
                let room = (*limit as usize).saturating_sub(kept.len());
                kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            Some(Current::Stream { sender, .. }) => {
                // Once the reader has what it wants it hangs up; the rest of the tar is not needed.
                if let Some(s) = sender
                    && s.send(bytes.to_vec()).is_err()
                {
                    *sender = None;
                }
            }
            None => {}
        }
    }

    fn end(&mut self) {
        let collected = match self.current.take() {
            Some(Current::Keep { at, bytes, .. }) => (at, Collected::Bytes(bytes)),
            Some(Current::Stream { at, sender, reader }) => {
                drop(sender); // the end of the tar for its reader
                (at, Collected::DevTar(join(DEV_TAR, reader)))
            }
            None => return,
        };
        self.collected.insert(collected.0, collected.1);
    }
}

/// The bytes sent by the pass, as a stream; the end when the pass has none left to send.
struct ChannelReader {
    receiver: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::image::rootfs::{Entry, Kind};

    const CONFIG: &[u8] = b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_MODULES=y\n";

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// Shows `files` to a tap in `chunk`-byte pieces, then reads them in a view that holds
    /// `visible` of them (by index).
    fn read(files: &[(&str, Vec<u8>)], visible: &[usize], chunk: usize) -> Option<ConfigFact> {
        let mut tap = KernelTap::new("kernel");
        let at = |i: usize| ContentRef {
            layer: 0,
            ordinal: i as u64,
        };
        for (i, (path, bytes)) in files.iter().enumerate() {
            if tap.begin(Path::new(path), bytes.len() as u64, at(i)) {
                for piece in bytes.chunks(chunk.max(1)) {
                    tap.chunk(piece);
                }
                tap.end();
            }
        }
        let mut rootfs = Rootfs::default();
        for &i in visible {
            rootfs.entries.insert(
                PathBuf::from(files[i].0),
                Entry {
                    kind: Kind::File,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    size: files[i].1.len() as u64,
                    mtime: 0,
                    sha256: None,
                    xattrs: Default::default(),
                    content: Some(at(i)),
                    layer: 0,
                    hardlink_of: None,
                },
            );
        }
        tap.finish_in(&rootfs)
    }

    #[test]
    fn kernel_dev_tar_is_read_as_it_streams_past_in_any_chunks() {
        let headers = "usr/src/linux-headers-6.1.0-1-amd64/.config";
        let big = vec![0x5a; 300 << 10]; // members before and after, larger than the queue
        let dev = tar_of(&[("usr/src/other", &big), (headers, CONFIG), ("usr/src/after", &big)]);
        for chunk in [1, 511, 64 << 10] {
            let files = [("kernel-dev.tar", dev.clone())];
            let fact = read(&files, &[0], chunk).expect("a kernel image");
            let config = fact.config.expect("the configuration");
            assert_eq!(config.source, format!("kernel-dev.tar:{headers}"));
            assert_eq!(config.arch.as_deref(), Some("x86_64"));
            assert!(fact.unread.is_empty(), "{:?}", fact.unread);
        }
    }

    #[test]
    fn only_what_the_view_still_has_counts() {
        let dev = tar_of(&[("usr/src/linux-headers-6.1.0-1-amd64/.config", CONFIG)]);
        let files = [
            ("kernel-dev.tar", dev),
            ("kernel", b"not a kernel".to_vec()),
            ("boot/config-6.1.0-1-amd64", CONFIG.to_vec()),
        ];
        // kernel-dev.tar was deleted by a later layer: the config file is read instead, and
        // the binary never needed.
        let fact = read(&files, &[1, 2], 4096).expect("a kernel image");
        assert_eq!(fact.config.expect("found").source, "boot/config-6.1.0-1-amd64");
        // A view with neither the binary nor kernel-dev.tar is no kernel image.
        assert!(read(&files, &[2], 4096).is_none());
        // Nothing else collected is taken for a source.
        let files = [("etc/config", CONFIG.to_vec()), ("usr/kernel", b"x".to_vec())];
        assert!(read(&files, &[0, 1], 4096).is_none());
    }

    #[test]
    fn garbage_and_oversized_sources_are_reasons() {
        let files = [
            ("kernel-dev.tar", vec![0xff; 10_000]),
            ("config", vec![b'x'; MAX_CONFIG_BYTES + 10]),
            ("kernel", b"MZ garbage, no IKCONFIG".to_vec()),
        ];
        let fact = read(&files, &[0, 1, 2], 4096).expect("a kernel image");
        assert!(fact.config.is_none());
        let sources: Vec<&str> = fact.unread.iter().map(|u| u.source.as_str()).collect();
        assert_eq!(
            sources,
            ["kernel-dev.tar", "config", "IKCONFIG in kernel"],
            "{:?}",
            fact.unread
        );
        assert!(
            fact.unread[1].reason.contains("larger than a configuration"),
            "{:?}",
            fact.unread[1]
        );
    }
}
