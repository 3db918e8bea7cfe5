//! `uki`: a Unified Kernel Image, one PE file that UEFI firmware starts directly: systemd's
//! EFI stub with the kernel, initrd, command line, os-release and kernel release added as
//! sections, laid out as systemd's ukify (v254 and later) lays them out, so that Secure Boot
//! signs, and the firmware checks, the command line and initrd with the kernel.
//!
//! The layout: a trailing COFF symbol table of the stub is cut; each section is placed after
//! the last, its address rounded up to the stub's section alignment and its data to its file
//! alignment, in the order `.osrel .cmdline .uname .initrd .linux` (the kernel last, where it
//! has room to decompress); SizeOfImage and SizeOfInitializedData are recomputed, the checksum
//! zeroed and the timestamp left as the stub has it. Nothing depends on the clock.

use std::fs::File;
use std::io::{self, Read as _, Write};
use std::path::Path;

use super::{BuildError, Code};

/// Where Debian's systemd-boot-efi puts the x86-64 stub.
pub const DEFAULT_STUB: &str = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
/// The largest stub read: Debian's is 83 KB.
const MAX_STUB: u64 = 16 << 20;

const SECTION_HEADER: usize = 40;
const IMAGE_SCN_CNT_CODE: u32 = 0x0000_0020;
const IMAGE_SCN_CNT_INITIALIZED_DATA: u32 = 0x0000_0040;
const IMAGE_SCN_MEM_READ: u32 = 0x4000_0000;
const PE32_PLUS: u16 = 0x20b;
const AMD64: u16 = 0x8664;

/// One part of a section's data: bytes at hand, or a file (an initrd can be hundreds of MiB).
pub enum Part<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// A section to add, by name (at most 8 bytes), its data the parts in order.
pub struct Section<'a> {
    pub name: &'static str,
    pub parts: Vec<Part<'a>>,
}

fn bad_stub(stub: &Path, message: impl Into<String>) -> BuildError {
    BuildError::Input {
        code: Code::BadStub,
        what: format!("--uki-stub {}", stub.display()),
        message: message.into(),
        hint: format!("give systemd's x86-64 EFI stub ({DEFAULT_STUB}, from Debian's systemd-boot-efi), unsigned"),
    }
}

fn too_large(message: String) -> BuildError {
    BuildError::Input {
        code: Code::UkiTooLarge,
        what: "--format uki".into(),
        message,
        hint: "a PE image addresses at most 4 GiB: make the initrd smaller (fewer or smaller images)".into(),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn put_u32(b: &mut [u8], at: usize, value: u32) {
    b[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn round_up(value: u64, alignment: u64) -> u64 {
    value.div_ceil(alignment) * alignment
}

/// The stub's file, read whole and checked: what goblin parses, and the offsets of the header
/// fields the assembly rewrites.
struct Stub {
    bytes: Vec<u8>,
    /// File offsets of the COFF header and the optional header.
    coff: usize,
    optional: usize,
    section_table: usize,
    sections: usize,
    section_alignment: u64,
    file_alignment: u64,
    size_of_headers: u64,
}

impl Stub {
    fn read(path: &Path) -> Result<Stub, BuildError> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|f| f.take(MAX_STUB + 1).read_to_end(&mut bytes))
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => BuildError::Input {
                    code: Code::MissingTool,
                    what: "--format uki".into(),
                    message: format!("the EFI stub {} is not there", path.display()),
                    hint: "apt-get install systemd-boot-efi, or give --uki-stub FILE".into(),
                },
                _ => bad_stub(path, format!("cannot be read: {e}")),
            })?;
        if bytes.len() as u64 > MAX_STUB {
            return Err(bad_stub(path, format!("larger than {MAX_STUB} bytes: not an EFI stub")));
        }
        let pe = goblin::pe::PE::parse(&bytes).map_err(|e| bad_stub(path, format!("not a PE image: {e}")))?;
        if pe.header.coff_header.machine != AMD64 || !pe.is_64 {
            return Err(bad_stub(path, "not an x86-64 (PE32+) image"));
        }
        let optional_header = pe
            .header
            .optional_header
            .ok_or_else(|| bad_stub(path, "has no optional header"))?;
        if optional_header.standard_fields.magic != PE32_PLUS {
            return Err(bad_stub(path, "not a PE32+ image"));
        }
        let windows = optional_header.windows_fields;
        if optional_header
            .data_directories
            .get_certificate_table()
            .is_some_and(|t| t.size != 0)
        {
            return Err(bad_stub(
                path,
                "is signed: a signature would not cover the sections added to it",
            ));
        }
        let (section_alignment, file_alignment) =
            (u64::from(windows.section_alignment), u64::from(windows.file_alignment));
        if !file_alignment.is_power_of_two()
            || !section_alignment.is_power_of_two()
            || section_alignment < file_alignment
        {
            return Err(bad_stub(
                path,
                format!(
                    "section alignment {section_alignment:#x} and file alignment {file_alignment:#x} are not a PE's"
                ),
            ));
        }
        let coff = pe.header.dos_header.pe_pointer as usize + 4;
        let optional = coff + 20;
        let section_table = optional + usize::from(pe.header.coff_header.size_of_optional_header);
        let stub = Stub {
            sections: pe.sections.len(),
            section_alignment,
            file_alignment,
            size_of_headers: u64::from(windows.size_of_headers),
            bytes: Vec::new(),
            coff,
            optional,
            section_table,
        };
        if stub.size_of_headers > bytes.len() as u64 || (stub.section_table as u64) > stub.size_of_headers {
            return Err(bad_stub(path, "its headers run past its end"));
        }
        let mut data_end = stub.size_of_headers;
        for section in &pe.sections {
            let (offset, size) = (
                u64::from(section.pointer_to_raw_data),
                u64::from(section.size_of_raw_data),
            );
            if offset % file_alignment != 0 || size % file_alignment != 0 || offset + size > bytes.len() as u64 {
                return Err(bad_stub(
                    path,
                    format!(
                        "section {} is not aligned to the file alignment or runs past the file's end",
                        String::from_utf8_lossy(&section.name).trim_end_matches('\0')
                    ),
                ));
            }
            data_end = data_end.max(offset + size);
        }
        if stub.sections == 0 {
            return Err(bad_stub(path, "has no sections"));
        }
        let symbols = pe.header.coff_header.pointer_to_symbol_table as usize;
        let symbol_count = pe.header.coff_header.number_of_symbol_table as usize;
        if symbols != 0 && symbols as u64 >= data_end {
            // The symbol table and the string table after it (its first word is its size):
            // cut when they end the file, as ukify does, for they would only be signed along.
            let strings = symbols + 18 * symbol_count;
            let end = bytes
                .get(strings..strings + 4)
                .map(|size| strings + u32_at(size, 0) as usize);
            if end == Some(bytes.len()) {
                bytes.truncate(symbols);
                put_u32(&mut bytes, coff + 8, 0);
                put_u32(&mut bytes, coff + 12, 0);
            }
        }
        Ok(Stub { bytes, ..stub })
    }

    fn section_header(&self, index: usize) -> &[u8] {
        let at = self.section_table + index * SECTION_HEADER;
        &self.bytes[at..at + SECTION_HEADER]
    }
}

fn part_len(part: &Part) -> Result<u64, BuildError> {
    match part {
        Part::Bytes(bytes) => Ok(bytes.len() as u64),
        Part::File(path) => std::fs::metadata(path).map(|m| m.len()).map_err(|e| BuildError::Io {
            path: path.display().to_string(),
            source: e,
            hint: "check the output disk".into(),
        }),
    }
}

/// Writes the UKI made of the stub at `stub` and `sections` to `out`.
pub fn write_uki(stub: &Path, sections: &[Section], out: &mut impl Write) -> Result<(), BuildError> {
    let mut image = Stub::read(stub)?;
    let headers_end = image.section_table + (image.sections + sections.len()) * SECTION_HEADER;
    if headers_end as u64 > image.size_of_headers {
        return Err(bad_stub(
            stub,
            format!("its headers have no room for {} more section headers", sections.len()),
        ));
    }
    let last = image.section_header(image.sections - 1);
    let mut next_address = u64::from(u32_at(last, 12)) + u64::from(u32_at(last, 8));
    let mut file_end = image.bytes.len() as u64;
    let mut initialized = u64::from(u32_at(&image.bytes, image.optional + 8));
    let mut layout = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        let mut size = 0;
        for part in &section.parts {
            size += part_len(part)?;
        }
        let address = round_up(next_address, image.section_alignment);
        let offset = round_up(file_end, image.file_alignment);
        let raw_size = round_up(size, image.file_alignment);
        next_address = address + size;
        file_end = offset + raw_size;
        initialized += size;
        if next_address > u64::from(u32::MAX) || file_end > u64::from(u32::MAX) {
            return Err(too_large(format!(
                "with its {} section ({size} bytes) the image passes 4 GiB",
                section.name
            )));
        }
        let flags = IMAGE_SCN_MEM_READ
            | if section.name == ".linux" {
                IMAGE_SCN_CNT_CODE
            } else {
                IMAGE_SCN_CNT_INITIALIZED_DATA
            };
        let mut header = [0u8; SECTION_HEADER];
        header[..section.name.len()].copy_from_slice(section.name.as_bytes());
        put_u32(&mut header, 8, size as u32);
        put_u32(&mut header, 12, address as u32);
        put_u32(&mut header, 16, raw_size as u32);
        put_u32(&mut header, 20, offset as u32);
        put_u32(&mut header, 36, flags);
        let at = image.section_table + (image.sections + i) * SECTION_HEADER;
        image.bytes[at..at + SECTION_HEADER].copy_from_slice(&header);
        layout.push((offset, size, raw_size));
    }
    let size_of_image = round_up(next_address, image.section_alignment);
    let initialized = u32::try_from(initialized).map_err(|_| too_large("the initialized data passes 4 GiB".into()))?;
    let count = u16::try_from(image.sections + sections.len()).map_err(|_| bad_stub(stub, "too many sections"))?;
    let coff = image.coff;
    image.bytes[coff + 2..coff + 4].copy_from_slice(&count.to_le_bytes());
    put_u32(&mut image.bytes, image.optional + 8, initialized);
    put_u32(&mut image.bytes, image.optional + 56, size_of_image as u32);
    // The checksum is the signer's to set: firmware does not check it.
    put_u32(&mut image.bytes, image.optional + 64, 0);

    let io = |e: io::Error| BuildError::Io {
        path: "the UKI".into(),
        source: e,
        hint: "check the space left on the output disk".into(),
    };
    out.write_all(&image.bytes).map_err(io)?;
    let mut written = image.bytes.len() as u64;
    for (section, (offset, size, raw_size)) in sections.iter().zip(layout) {
        pad(out, offset - written).map_err(io)?;
        let mut copied = 0;
        for part in &section.parts {
            copied += match part {
                Part::Bytes(bytes) => {
                    out.write_all(bytes).map_err(io)?;
                    bytes.len() as u64
                }
                Part::File(path) => {
                    let mut file = File::open(path).map_err(io)?;
                    io::copy(&mut file, out).map_err(io)?
                }
            };
        }
        if copied != size {
            return Err(io(io::Error::other(format!(
                "{} changed size while it was copied",
                section.name
            ))));
        }
        pad(out, raw_size - size).map_err(io)?;
        written = offset + raw_size;
    }
    Ok(())
}

fn pad(out: &mut impl Write, count: u64) -> io::Result<()> {
    io::copy(&mut io::repeat(0).take(count), out).map(|_| ())
}

/// The kernel release a bzImage names (`6.1.0-57-amd64`): the first word of the version string
/// its setup header points at (Linux boot protocol 2.00+, `kernel_version`).
pub fn kernel_release(kernel: &[u8]) -> Option<String> {
    if kernel.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let pointer = kernel.get(0x20e..0x210).map(|b| usize::from(u16_at(b, 0)))?;
    if pointer == 0 {
        return None;
    }
    let text = kernel.get(pointer + 0x200..)?;
    let end = text.iter().take(256).position(|&b| b == 0 || b == b' ')?;
    let release = std::str::from_utf8(&text[..end]).ok()?;
    (!release.is_empty() && release.chars().all(|c| c.is_ascii_graphic())).then(|| release.to_owned())
}

/// The command line as the stub hands it to the kernel: it widens each byte to UTF-16 and
/// stops at a NUL, so anything but printable ASCII would arrive mangled or cut.
pub fn check_cmdline(cmdline: &[u8]) -> Result<(), BuildError> {
    match cmdline.iter().position(|&b| !(b == b' ' || b.is_ascii_graphic())) {
        None => Ok(()),
        Some(at) => Err(BuildError::Input {
            code: Code::BadCmdline,
            what: "kernel.cmdline".into(),
            message: format!(
                "byte {at} ({:#04x}) is not printable ASCII, which the UKI's stub would mangle",
                cmdline[at]
            ),
            hint: "write the kernel command line in printable ASCII, on one line".into(),
        }),
    }
}

/// The UKI's os-release: the image's own, else one naming it.
pub fn os_release(own: Option<Vec<u8>>, name: &str) -> Vec<u8> {
    own.unwrap_or_else(|| format!("NAME=sealkit\nID=sealkit\nPRETTY_NAME=\"{name}\"\n").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_release_is_read_from_the_setup_header() {
        let mut kernel = vec![0u8; 0x400];
        kernel[0x202..0x206].copy_from_slice(b"HdrS");
        kernel[0x20e..0x210].copy_from_slice(&0x100u16.to_le_bytes());
        kernel[0x300..0x300 + 20].copy_from_slice(b"6.1.0-57-amd64 (x) #");
        assert_eq!(kernel_release(&kernel).as_deref(), Some("6.1.0-57-amd64"));
        kernel[0x202] = b'X';
        assert_eq!(kernel_release(&kernel), None);
        assert_eq!(kernel_release(b"short"), None);
        // A header cut right after its magic, before the version pointer: no release, no panic.
        kernel[0x202] = b'H';
        assert_eq!(kernel_release(&kernel[..0x208]), None);
    }

    #[test]
    fn a_command_line_the_stub_would_mangle_is_refused() {
        check_cmdline(b"console=ttyS0 panic=-1").unwrap();
        for bad in [&b"a\nb"[..], b"caf\xc3\xa9", b"a\0b", b"tab\there"] {
            assert!(check_cmdline(bad).is_err(), "{bad:?}");
        }
    }

    /// An initrd that would take the image past 4 GiB is refused from its size alone, before a
    /// byte is copied (the file here is sparse).
    #[test]
    fn an_image_past_4_gib_is_refused_before_anything_is_written() {
        if !Path::new(DEFAULT_STUB).is_file() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let initrd = dir.path().join("initrd");
        File::create(&initrd).unwrap().set_len(u64::from(u32::MAX)).unwrap();
        let sections = [Section {
            name: ".initrd",
            parts: vec![Part::File(&initrd)],
        }];
        let mut out = Vec::new();
        let e = write_uki(Path::new(DEFAULT_STUB), &sections, &mut out).unwrap_err();
        assert!(
            matches!(
                e,
                BuildError::Input {
                    code: Code::UkiTooLarge,
                    ..
                }
            ),
            "{e}"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn garbage_and_signed_stubs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("stub");
        std::fs::write(&garbage, b"MZ not really a PE file").unwrap();
        let e = write_uki(&garbage, &[], &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("not a PE image"), "{e}");
        let e = write_uki(&dir.path().join("missing"), &[], &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("systemd-boot-efi"), "{e}");
    }
}
