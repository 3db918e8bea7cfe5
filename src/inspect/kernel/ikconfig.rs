//! The configuration a kernel carries inside itself (CONFIG_IKCONFIG): kernel/configs.c puts
//! the gzip of its `.config` between the markers `IKCFG_ST` and `IKCFG_ED` in the vmlinux, which
//! the boot image holds compressed. scripts/extract-ikconfig finds it by trying every compressed
//! stream it can spot; here the image's own header says where the payload is.

use std::io::{self, Read};

use super::config::MAX_CONFIG_BYTES;

/// The decompressed kernel read in search of the blob. A vmlinux is under 100 MiB (Debian's
/// 6.1 amd64: 63 MiB); past this the payload is taken for a decompression bomb.
pub const MAX_VMLINUX_BYTES: u64 = 128 << 20;
/// The compressed blob read after a marker: configurations compress to about 50 KiB.
const MAX_BLOB_BYTES: usize = 1 << 20;
/// Markers whose gzip stream does not decompress before the search gives up, so that a hostile
/// kernel cannot make it decompress forever.
const MAX_FALSE_MARKERS: usize = 8;
/// A gzip header (magic and deflate) straight after the start marker, as extract-ikconfig looks.
const MARKER: &[u8] = b"IKCFG_ST\x1f\x8b\x08";
const CHUNK: usize = 1 << 20;

/// How a kernel binary was packed, as far as finding its configuration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Xz,
    Lzma,
    Zstd,
    Bzip2,
    Lzo,
    Lz4,
}

impl Compression {
    fn of(bytes: &[u8]) -> Option<Compression> {
        const MAGICS: [(&[u8], Compression); 7] = [
            (b"\x1f\x8b", Compression::Gzip),
            (b"\xfd7zXZ\x00", Compression::Xz),
            (b"\x5d\x00\x00", Compression::Lzma),
            (b"\x28\xb5\x2f\xfd", Compression::Zstd),
            (b"BZh", Compression::Bzip2),
            (b"\x89LZO", Compression::Lzo),
            (b"\x02\x21\x4c\x18", Compression::Lz4),
        ];
        MAGICS.iter().find(|(m, _)| bytes.starts_with(m)).map(|&(_, c)| c)
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Lzma => "lzma",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Lzo => "lzo",
            Compression::Lz4 => "lz4",
        }
    }
}

/// The `.config` text inside `image`, and how the image was read (`bzImage, boot protocol
/// 2.15, xz`); an error says why none was found.
pub fn extract(image: &[u8]) -> Result<(Vec<u8>, String), String> {
    let (container, payload) = locate(image)?;
    let (compression, described) = match Compression::of(payload) {
        Some(c) => (Some(c), format!("{container}, {}", c.name())),
        None => (None, container),
    };
    let stream: Box<dyn Read + '_> = match compression {
        None => Box::new(payload),
        Some(Compression::Gzip) => Box::new(flate2::read::GzDecoder::new(payload)),
        Some(Compression::Xz) => Box::new(lzma_rust2::XzReader::new_mem_limit(payload, false, MEM_LIMIT_KIB)),
        Some(Compression::Lzma) => Box::new(
            lzma_rust2::LzmaReader::new_mem_limit(payload, MEM_LIMIT_KIB, None)
                .map_err(|e| format!("{described}: not an lzma stream: {e}"))?,
        ),
        Some(Compression::Zstd) => {
            let decoder = zstd::stream::read::Decoder::with_buffer(payload)
                .map_err(|e| format!("{described}: cannot start zstd: {e}"))?;
            Box::new(decoder.single_frame())
        }
        Some(other) => {
            return Err(format!(
                "{described}: a payload compressed with {} is not read (gzip, xz, lzma and zstd are)",
                other.name()
            ));
        }
    };
    let config = find_blob(stream).map_err(|e| format!("{described}: {e}"))?;
    Ok((config, described))
}

/// Dictionaries and windows up to the vmlinux limit: a kernel's is 32 MiB (xz) or 128 MiB
/// (zstd -22), and a larger one could only be a way to make the reader allocate.
const MEM_LIMIT_KIB: u32 = (MAX_VMLINUX_BYTES >> 10) as u32 + 1024;

/// The container and its compressed (or plain) kernel inside.
fn locate(image: &[u8]) -> Result<(String, &[u8]), String> {
    if image.get(0x202..0x206) == Some(b"HdrS") {
        return bzimage(image);
    }
    if image.starts_with(b"MZ") && image.get(4..8) == Some(b"zimg") {
        return zboot(image);
    }
    if Compression::of(image).is_some() {
        return Ok(("compressed image".into(), image));
    }
    if image.starts_with(b"\x7fELF") {
        return Ok(("ELF".into(), image));
    }
    Ok(("uncompressed image".into(), image))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The x86 boot protocol (Documentation/arch/x86/boot.rst): the protected-mode kernel starts
/// after the setup sectors, and from protocol 2.08 `payload_offset` (0x248) and `payload_length`
/// (0x24c) place the compressed vmlinux inside it.
fn bzimage(image: &[u8]) -> Result<(String, &[u8]), String> {
    let truncated = || format!("bzImage: its {}-byte setup header is cut short", image.len());
    let protocol = u16_at(image, 0x206).ok_or_else(truncated)?;
    let described = format!("bzImage, boot protocol {}.{:02}", protocol >> 8, protocol & 0xff);
    if protocol < 0x208 {
        return Err(format!(
            "{described}: before 2.08 the header does not say where the payload is"
        ));
    }
    let setup_sectors = match image.get(0x1f1).copied().ok_or_else(truncated)? {
        0 => 4,
        n => usize::from(n),
    };
    let kernel_start = (setup_sectors + 1) * 512;
    let offset = u32_at(image, 0x248).ok_or_else(truncated)? as usize;
    let length = u32_at(image, 0x24c).ok_or_else(truncated)? as usize;
    let payload = kernel_start
        .checked_add(offset)
        .and_then(|start| Some(start..start.checked_add(length)?))
        .and_then(|range| image.get(range))
        .ok_or_else(|| {
            format!(
                "{described}: the payload ({length} bytes at {kernel_start} + {offset}) lies past the end \
                 of the {}-byte file: truncated, or wrong offsets",
                image.len()
            )
        })?;
    Ok((described, payload))
}

/// EFI zboot images (arm64, riscv64 `vmlinuz.efi`; drivers/firmware/efi/libstub/zboot-header.S):
/// `MZ`, `zimg`, then the payload's offset and size.
fn zboot(image: &[u8]) -> Result<(String, &[u8]), String> {
    let offset = u32_at(image, 8).unwrap_or(0) as usize;
    let size = u32_at(image, 12).unwrap_or(0) as usize;
    offset
        .checked_add(size)
        .and_then(|end| image.get(offset..end))
        .map(|payload| ("EFI zboot image".to_string(), payload))
        .ok_or_else(|| {
            format!(
                "EFI zboot image: the payload ({size} bytes at {offset}) lies past the end of the {}-byte \
                 file: truncated, or wrong offsets",
                image.len()
            )
        })
}

/// Reads the decompressed kernel in chunks until a marker is followed by a gzip stream that
/// decompresses, keeping only what a marker straddling two chunks and its blob need.
fn find_blob(stream: impl Read) -> Result<Vec<u8>, String> {
    let mut stream = stream.take(MAX_VMLINUX_BYTES + 1);
    let mut window: Vec<u8> = Vec::new();
    let mut consumed: u64 = 0;
    let mut eof = false;
    // A stream that breaks off ends the search, but what came before it is still searched.
    let mut broken: Option<String> = None;
    let mut read = |window: &mut Vec<u8>, consumed: &mut u64, broken: &mut Option<String>| {
        read_chunk(&mut stream, window, consumed).unwrap_or_else(|e| {
            *broken = Some(e);
            true
        })
    };
    let mut from = 0;
    let mut misses = 0;
    let mut last_miss = None;
    loop {
        if let Some(at) = find(&window[from..], MARKER).map(|p| p + from) {
            let blob_start = at + 8;
            while !eof && window.len() < blob_start + MAX_BLOB_BYTES {
                eof = read(&mut window, &mut consumed, &mut broken);
            }
            let end = window.len().min(blob_start + MAX_BLOB_BYTES);
            match gunzip(&window[blob_start..end]) {
                Ok(config) => return Ok(config),
                Err(e) => {
                    misses += 1;
                    if misses == MAX_FALSE_MARKERS {
                        return Err(format!(
                            "{MAX_FALSE_MARKERS} IKCFG_ST markers without a readable blob (the last: {e})"
                        ));
                    }
                    last_miss = Some(e);
                    from = at + 1;
                    continue;
                }
            }
        }
        if eof {
            let why = if let Some(e) = broken {
                e
            } else if consumed > MAX_VMLINUX_BYTES {
                format!(
                    "no IKCONFIG blob in the first {} MiB of the kernel: stopped there",
                    MAX_VMLINUX_BYTES >> 20
                )
            } else {
                format!("no IKCONFIG blob in the {consumed}-byte kernel (built without CONFIG_IKCONFIG?)")
            };
            return Err(match last_miss {
                Some(miss) => format!("{why}; an IKCFG_ST marker was found, but {miss}"),
                None => why,
            });
        }
        let keep_from = window.len().saturating_sub(MARKER.len() - 1);
        window.drain(..keep_from);
        from = 0;
        eof = read(&mut window, &mut consumed, &mut broken);
    }
}

/// Appends up to a chunk; true at the end of the stream or the limit.
fn read_chunk(stream: &mut impl Read, window: &mut Vec<u8>, consumed: &mut u64) -> Result<bool, String> {
    let before = window.len();
    window.resize(before + CHUNK, 0);
    let mut filled = before;
    while filled < window.len() {
        match stream.read(&mut window[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                window.truncate(filled);
                return Err(format!(
                    "the payload does not decompress after {} bytes: {e}",
                    *consumed + (filled - before) as u64
                ));
            }
        }
    }
    window.truncate(filled);
    *consumed += (filled - before) as u64;
    Ok(filled < before + CHUNK || *consumed > MAX_VMLINUX_BYTES)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    // Skipping to the first byte's next occurrence keeps a 128 MiB search near memory speed.
    let mut at = 0;
    while let Some(p) = haystack.get(at..)?.iter().position(|&b| b == needle[0]) {
        let start = at + p;
        if haystack.get(start..start + needle.len())? == needle {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// The blob: one gzip member (what follows it, `IKCFG_ED`, is not read).
fn gunzip(blob: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(blob)
        .take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("its gzip stream does not decompress: {e}"))?;
    if out.len() > MAX_CONFIG_BYTES {
        return Err(format!("its gzip stream decompresses past {MAX_CONFIG_BYTES} bytes"));
    }
    Ok(out)
}
