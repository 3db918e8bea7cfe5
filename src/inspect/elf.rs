//! Facts about one ELF file — identity, linkage, hardening, embedded package lists — read with
//! goblin. Only facts: whether a fact is acceptable is for policy to say.
//!
//! The hardening criteria are hardening-check's (devscripts) where it has one, so the two agree;
//! docs/binaries.md states each criterion and where sealkit goes further. A file that cannot be
//! parsed yields a `malformed` fact with the reason, never a panic, and no allocation is sized by a
//! count taken from the file before that count is checked against the file's length.

use std::collections::BTreeSet;
use std::io::Read;

use goblin::elf::dynamic::{
    DF_1_NOW, DF_1_PIE, DF_BIND_NOW, DF_TEXTREL, DT_BIND_NOW, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_TEXTREL,
};
use goblin::elf::header::{ET_DYN, ET_EXEC, ET_REL};
use goblin::elf::program_header::{PF_W, PF_X, PT_GNU_RELRO, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR};
use goblin::elf::section_header::SHT_NOBITS;
use goblin::elf::sym::{STT_FUNC, STT_GNU_IFUNC, STT_NOTYPE};
use serde::Serialize;

use super::gobuild::{self, GoBuildInfo};
use super::rustdeps::{self, RustDependencies};

/// The four answers a check can give, with the evidence behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// The property does not apply (e.g. PIE for a shared library, a canary for Go code).
    Na,
    /// It applies but cannot be decided from the file (e.g. no symbols to look at).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub result: Verdict,
    /// The tag, segment or symbol the verdict rests on.
    pub evidence: String,
}

fn check(result: Verdict, evidence: impl Into<String>) -> Check {
    Check {
        result,
        evidence: evidence.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// ET_EXEC with an interpreter: a dynamically linked, position-dependent executable.
    Exec,
    /// ET_EXEC without an interpreter.
    Static,
    /// ET_DYN executable with an interpreter.
    Pie,
    /// ET_DYN executable without an interpreter.
    StaticPie,
    SharedObject,
    /// ET_REL: objects and kernel modules.
    Relocatable,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relro {
    None,
    Partial,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Go,
    Rust,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchPath {
    pub path: String,
    /// Uses `$ORIGIN` (relative to the binary).
    pub origin: bool,
    /// Neither absolute nor `$ORIGIN`-based: relative to the process's working directory.
    pub relative: bool,
    /// An empty entry, which the loader reads as the working directory.
    pub empty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hardening {
    pub pie: Check,
    pub relro: Relro,
    pub relro_check: Check,
    pub bind_now: Check,
    pub nx: Check,
    pub canary: Check,
    pub fortify: Check,
    /// libc functions called through their `__X_chk` form.
    pub fortified: Vec<String>,
    /// fortifiable libc functions called plainly.
    pub unfortified: Vec<String>,
    pub text_relocations: Check,
    pub writable_executable_segments: Check,
    pub cet_ibt: Check,
    pub cet_shstk: Check,
    pub stack_clash: Check,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElfFacts {
    pub class: u8,
    pub endian: &'static str,
    pub machine: String,
    pub kind: Kind,
    pub language: Language,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    pub rpath: Vec<SearchPath>,
    pub runpath: Vec<SearchPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// No `.symtab`.
    pub stripped: bool,
    pub debug_info: bool,
    pub hardening: Hardening,
    /// For kernel modules (`.ko`): whether a signature is appended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_signed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<GoBuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustDependencies>,
    /// Parts that are malformed (a corrupt Go buildinfo, a `.dep-v0` that inflates too far), with
    /// the reason; every other fact of the file stands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed_parts: Vec<String>,
}

/// What the inspector says of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Inspection {
    Elf(Box<ElfFacts>),
    Malformed {
        reason: String,
    },
    /// Not read (too large, unreadable): listed all the same, so that no file drops out of a
    /// scan unseen; policy decides what that means.
    #[serde(rename = "not-inspected")]
    NotInspected {
        reason: String,
    },
}

/// The fortifiable libc functions, hardening-check's `%libc` list (devscripts 2.23): FORTIFY
/// is judged on calls to these and to their `__X_chk` forms.
pub const FORTIFIABLE: [&str; 78] = [
    "asprintf",
    "confstr",
    "dprintf",
    "fdelt",
    "fgets",
    "fgets_unlocked",
    "fgetws",
    "fgetws_unlocked",
    "fprintf",
    "fread",
    "fread_unlocked",
    "fwprintf",
    "getcwd",
    "getdomainname",
    "getgroups",
    "gethostname",
    "getlogin_r",
    "gets",
    "getwd",
    "longjmp",
    "mbsnrtowcs",
    "mbsrtowcs",
    "mbstowcs",
    "memcpy",
    "memmove",
    "mempcpy",
    "memset",
    "obstack_printf",
    "obstack_vprintf",
    "poll",
    "ppoll",
    "pread64",
    "pread",
    "printf",
    "ptsname_r",
    "read",
    "readlink",
    "readlinkat",
    "realpath",
    "recv",
    "recvfrom",
    "snprintf",
    "sprintf",
    "stpcpy",
    "stpncpy",
    "strcat",
    "strcpy",
    "strncat",
    "strncpy",
    "swprintf",
    "syslog",
    "ttyname_r",
    "vasprintf",
    "vdprintf",
    "vfprintf",
    "vfwprintf",
    "vprintf",
    "vsnprintf",
    "vsprintf",
    "vswprintf",
    "vsyslog",
    "vwprintf",
    "wcpcpy",
    "wcpncpy",
    "wcrtomb",
    "wcscat",
    "wcscpy",
    "wcsncat",
    "wcsncpy",
    "wcsnrtombs",
    "wcsrtombs",
    "wcstombs",
    "wctomb",
    "wmemcpy",
    "wmemmove",
    "wmempcpy",
    "wmemset",
    "wprintf",
];

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const MODULE_SIGNATURE_MAGIC: &[u8] = b"~Module signature appended~\n";

pub fn is_elf(head: &[u8]) -> bool {
    head.starts_with(ELF_MAGIC)
}

fn machine_name(machine: u16) -> String {
    match machine {
        3 => "x86".into(),
        62 => "x86_64".into(),
        40 => "arm".into(),
        183 => "aarch64".into(),
        243 => "riscv".into(),
        8 => "mips".into(),
        20 => "ppc".into(),
        21 => "ppc64".into(),
        22 => "s390".into(),
        other => format!("machine-{other}"),
    }
}

/// Checks the header's table geometry against the file before goblin allocates from it.
fn check_geometry(bytes: &[u8]) -> Result<goblin::elf::Header, String> {
    if bytes.len() < 16 {
        return Err(format!("truncated ELF identification ({} bytes)", bytes.len()));
    }
    let header = goblin::elf::Elf::parse_header(bytes).map_err(|e| format!("bad ELF header: {e}"))?;
    let len = bytes.len() as u64;
    let (phent, shent) = if header.e_ident[4] == 2 {
        (56u64, 64u64)
    } else {
        (32, 40)
    };
    let table = |what: &str, offset: u64, count: u64, entsize: u64, expected: u64| -> Result<(), String> {
        if count == 0 {
            return Ok(());
        }
        if entsize != expected {
            return Err(format!("{what} entries are {entsize} bytes, not {expected}"));
        }
        let end = count.checked_mul(entsize).and_then(|size| size.checked_add(offset));
        match end {
            Some(end) if end <= len => Ok(()),
            _ => Err(format!(
                "the {what} table ({count} entries at offset {offset}) runs past the end of the {len}-byte file"
            )),
        }
    };
    table(
        "program header",
        header.e_phoff,
        u64::from(header.e_phnum),
        u64::from(header.e_phentsize),
        phent,
    )?;
    table(
        "section header",
        header.e_shoff,
        u64::from(header.e_shnum),
        u64::from(header.e_shentsize),
        shent,
    )?;
    Ok(header)
}

/// Inspects the bytes of one file (which must start with the ELF magic).
pub fn inspect(bytes: &[u8]) -> Inspection {
    match inspect_inner(bytes) {
        Ok(facts) => Inspection::Elf(Box::new(facts)),
        Err(reason) => Inspection::Malformed { reason },
    }
}

fn search_paths(list: &[&str]) -> Vec<SearchPath> {
    list.iter()
        .flat_map(|entry| entry.split(':'))
        .map(|p| SearchPath {
            path: p.to_owned(),
            origin: p.contains("$ORIGIN") || p.contains("${ORIGIN}"),
            relative: !p.is_empty() && !p.starts_with('/') && !p.starts_with("$ORIGIN") && !p.starts_with("${ORIGIN}"),
            empty: p.is_empty(),
        })
        .collect()
}

fn inspect_inner(bytes: &[u8]) -> Result<ElfFacts, String> {
    check_geometry(bytes)?;
    let elf = goblin::elf::Elf::parse(bytes).map_err(|e| format!("cannot parse: {e}"))?;
    let mut malformed_parts = Vec::new();
    let needed = dynamic_strings(&elf, DT_NEEDED, "DT_NEEDED", &mut malformed_parts);
    let rpath = dynamic_strings(&elf, DT_RPATH, "DT_RPATH", &mut malformed_parts);
    let runpath = dynamic_strings(&elf, DT_RUNPATH, "DT_RUNPATH", &mut malformed_parts);

    let section = |name: &str| {
        elf.section_headers
            .iter()
            .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name))
    };
    let section_bytes = |name: &str| -> Option<&[u8]> {
        let s = section(name)?;
        if s.sh_type == SHT_NOBITS {
            return None;
        }
        let start = usize::try_from(s.sh_offset).ok()?;
        let end = start.checked_add(usize::try_from(s.sh_size).ok()?)?;
        bytes.get(start..end)
    };

    let has_phdr = |t: u32| elf.program_headers.iter().any(|p| p.p_type == t);
    let interp = has_phdr(PT_INTERP);
    let dyn_info = elf.dynamic.as_ref().map(|d| &d.info);
    let flags = dyn_info.map_or(0, |i| i.flags);
    let flags_1 = dyn_info.map_or(0, |i| i.flags_1);
    let has_tag = |tag: u64| {
        elf.dynamic
            .as_ref()
            .is_some_and(|d| d.dyns.iter().any(|e| e.d_tag == tag))
    };

    let kind = match elf.header.e_type {
        ET_EXEC if interp => Kind::Exec,
        ET_EXEC => Kind::Static,
        ET_DYN if interp => Kind::Pie,
        // A static-pie has no interpreter but is flagged PIE (or, from older linkers, has PHDR).
        ET_DYN if flags_1 & DF_1_PIE != 0 || (has_phdr(PT_PHDR) && elf.entry != 0 && elf.soname.is_none()) => {
            Kind::StaticPie
        }
        ET_DYN => Kind::SharedObject,
        ET_REL => Kind::Relocatable,
        _ => Kind::Other,
    };

    // Undefined function symbols of both tables, as hardening-check reads them (`readelf -sW`).
    let mut undefined: BTreeSet<&str> = BTreeSet::new();
    for (syms, strtab) in [(&elf.dynsyms, &elf.dynstrtab), (&elf.syms, &elf.strtab)] {
        for sym in syms.iter() {
            let typ = sym.st_type();
            if sym.st_shndx == 0
                && (typ == STT_FUNC || typ == STT_GNU_IFUNC || typ == STT_NOTYPE)
                && let Some(name) = strtab.get_at(sym.st_name)
                && !name.is_empty()
            {
                undefined.insert(name.split('@').next().unwrap_or(name));
            }
        }
    }
    let all_symbols = |name: &str| {
        [(&elf.dynsyms, &elf.dynstrtab), (&elf.syms, &elf.strtab)]
            .iter()
            .any(|(syms, strtab)| syms.iter().any(|s| strtab.get_at(s.st_name) == Some(name)))
    };

    let comment = section_bytes(".comment").unwrap_or_default();
    let go_section = section_bytes(".go.buildinfo");
    let language = if go_section.is_some() || section(".note.go.buildid").is_some() {
        Language::Go
    } else if section(".dep-v0").is_some()
        || memmem(comment, b"rustc version")
        || undefined.contains("rust_eh_personality")
        || all_symbols("rust_begin_unwind")
    {
        Language::Rust
    } else {
        Language::Other
    };
    let is_executable = matches!(kind, Kind::Exec | Kind::Static | Kind::Pie | Kind::StaticPie);
    let is_linked = !matches!(kind, Kind::Relocatable | Kind::Other);

    let pie = match kind {
        Kind::Pie => check(Verdict::Pass, "ET_DYN with PT_INTERP"),
        Kind::StaticPie => check(Verdict::Pass, "ET_DYN without PT_INTERP (static-pie)"),
        Kind::Exec | Kind::Static => check(Verdict::Fail, "ET_EXEC: loaded at a fixed address"),
        Kind::SharedObject => check(Verdict::Na, "shared object"),
        Kind::Relocatable | Kind::Other => check(Verdict::Na, "not a linked executable"),
    };

    let bind_now_evidence = if has_tag(DT_BIND_NOW) {
        Some("DT_BIND_NOW")
    } else if flags & DF_BIND_NOW != 0 {
        Some("DT_FLAGS BIND_NOW")
    } else if flags_1 & DF_1_NOW != 0 {
        Some("DT_FLAGS_1 NOW")
    } else {
        None
    };
    let gnu_relro = has_phdr(PT_GNU_RELRO);
    let relro = match (gnu_relro, bind_now_evidence.is_some()) {
        (false, _) => Relro::None,
        (true, false) => Relro::Partial,
        (true, true) => Relro::Full,
    };
    let relro_check = if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else if gnu_relro {
        check(Verdict::Pass, "PT_GNU_RELRO")
    } else {
        check(Verdict::Fail, "no PT_GNU_RELRO segment")
    };
    let bind_now = if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else {
        match bind_now_evidence {
            Some(e) => check(Verdict::Pass, e),
            None if elf.dynamic.is_none() => check(Verdict::Na, "no dynamic section: nothing is bound at run time"),
            None => check(Verdict::Fail, "no DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW"),
        }
    };

    let nx = if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else {
        match elf.program_headers.iter().find(|p| p.p_type == PT_GNU_STACK) {
            Some(p) if p.p_flags & PF_X != 0 => check(Verdict::Fail, "PT_GNU_STACK is executable"),
            Some(_) => check(Verdict::Pass, "PT_GNU_STACK without PF_X"),
            None => check(Verdict::Fail, "no PT_GNU_STACK: the kernel makes the stack executable"),
        }
    };

    let native = language == Language::Other;
    let canary = if !native {
        check(
            Verdict::Na,
            format!("{language:?} code does not use the C stack protector"),
        )
    } else if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else if undefined.contains("__stack_chk_fail") {
        check(Verdict::Pass, "__stack_chk_fail")
    } else if undefined.is_empty() {
        check(Verdict::Unknown, "no undefined symbols to look at")
    } else {
        check(Verdict::Fail, "no __stack_chk_fail")
    };

    let mut fortified = Vec::new();
    let mut unfortified = Vec::new();
    for name in FORTIFIABLE {
        if undefined.contains(format!("__{name}_chk").as_str()) {
            fortified.push(name.to_owned());
        }
        if undefined.contains(name) {
            unfortified.push(name.to_owned());
        }
    }
    let fortify = if !native {
        check(
            Verdict::Na,
            format!("{language:?} code does not use glibc's FORTIFY_SOURCE"),
        )
    } else if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else {
        match (fortified.is_empty(), unfortified.is_empty()) {
            (false, true) => check(Verdict::Pass, format!("{} fortified, none plain", fortified.len())),
            (false, false) => check(
                Verdict::Pass,
                format!(
                    "{} fortified, {} plain (some protected)",
                    fortified.len(),
                    unfortified.len()
                ),
            ),
            (true, true) => check(Verdict::Unknown, "no fortifiable libc function is used"),
            (true, false) => check(
                Verdict::Fail,
                format!("only plain fortifiable calls ({})", unfortified.len()),
            ),
        }
    };

    let text_relocations = if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else if has_tag(DT_TEXTREL) {
        check(Verdict::Fail, "DT_TEXTREL")
    } else if flags & DF_TEXTREL != 0 {
        check(Verdict::Fail, "DT_FLAGS TEXTREL")
    } else {
        check(Verdict::Pass, "no text relocations")
    };
    let wx: Vec<String> = elf
        .program_headers
        .iter()
        .enumerate()
        .filter(|(_, p)| p.p_type == PT_LOAD && p.p_flags & PF_W != 0 && p.p_flags & PF_X != 0)
        .map(|(i, _)| format!("PT_LOAD #{i}"))
        .collect();
    let writable_executable_segments = if !is_linked {
        check(Verdict::Na, "not a linked object")
    } else if wx.is_empty() {
        check(Verdict::Pass, "no PT_LOAD is both writable and executable")
    } else {
        check(Verdict::Fail, format!("writable and executable: {}", wx.join(", ")))
    };

    let (ibt, shstk) = cet_features(&elf, bytes);
    let cet = |bit: Option<bool>, name: &str| match (is_linked, bit) {
        (false, _) => check(Verdict::Na, "not a linked object"),
        (true, Some(true)) => check(Verdict::Pass, format!("GNU_PROPERTY_X86_FEATURE_1_{name}")),
        (true, _) if elf.header.e_machine != 62 && elf.header.e_machine != 3 => check(Verdict::Na, "not x86"),
        (true, _) => check(
            Verdict::Fail,
            format!("no GNU_PROPERTY_X86_FEATURE_1_{name} in .note.gnu.property"),
        ),
    };
    let stack_clash = if is_executable || kind == Kind::SharedObject {
        check(
            Verdict::Unknown,
            "not proven: needs disassembly (-fstack-clash-protection leaves no marker)",
        )
    } else {
        check(Verdict::Na, "not a linked object")
    };

    let build_id = elf
        .iter_note_sections(bytes, Some(".note.gnu.build-id"))
        .and_then(|mut notes| {
            notes.find_map(|n| {
                n.ok()
                    .filter(|n| n.n_type == 3 && n.name == "GNU")
                    .map(|n| hex::encode(n.desc))
            })
        });

    let module_signed =
        (kind == Kind::Relocatable && section(".modinfo").is_some()).then(|| bytes.ends_with(MODULE_SIGNATURE_MAGIC));

    let go = match go_section {
        Some(data) => match gobuild::parse(data) {
            Ok(info) => Some(info),
            Err(e) => {
                malformed_parts.push(format!("Go buildinfo: {e}"));
                None
            }
        },
        None => None,
    };
    let rust = match section_bytes(".dep-v0") {
        Some(data) => match rustdeps::parse(data) {
            Ok(deps) => Some(deps),
            Err(e) => {
                malformed_parts.push(format!("cargo-auditable .dep-v0: {e}"));
                None
            }
        },
        None => None,
    };

    Ok(ElfFacts {
        class: if elf.is_64 { 64 } else { 32 },
        endian: if elf.little_endian { "little" } else { "big" },
        machine: machine_name(elf.header.e_machine),
        kind,
        language,
        interpreter: elf.interpreter.map(str::to_owned),
        needed: needed.iter().map(|s| (*s).to_owned()).collect(),
        rpath: search_paths(&rpath),
        runpath: search_paths(&runpath),
        build_id,
        stripped: section(".symtab").is_none(),
        debug_info: section(".debug_info").is_some() || section(".zdebug_info").is_some(),
        hardening: Hardening {
            pie,
            relro,
            relro_check,
            bind_now,
            nx,
            canary,
            fortify,
            fortified,
            unfortified,
            text_relocations,
            writable_executable_segments,
            cet_ibt: cet(ibt, "IBT"),
            cet_shstk: cet(shstk, "SHSTK"),
            stack_clash,
        },
        module_signed,
        go,
        rust,
        malformed_parts,
    })
}

/// The strings the dynamic entries of `tag` name, in order. goblin leaves out a string it cannot
/// read, but the loader does not check DT_STRSZ: an offset past it may still name a library that
/// gets loaded. Each unreadable one is a malformed part, never a silent gap.
fn dynamic_strings<'a>(elf: &goblin::elf::Elf<'a>, tag: u64, name: &str, malformed: &mut Vec<String>) -> Vec<&'a str> {
    let Some(dynamic) = &elf.dynamic else {
        return Vec::new();
    };
    let table = &elf.dynstrtab;
    let mut strings = Vec::new();
    for entry in dynamic.dyns.iter().filter(|d| d.d_tag == tag) {
        match usize::try_from(entry.d_val).ok().and_then(|at| table.get_at(at)) {
            Some(s) => strings.push(s),
            None if entry.d_val >= table.len() as u64 => malformed.push(format!(
                "{name}: string offset {} is outside the {}-byte dynamic string table",
                entry.d_val,
                table.len()
            )),
            None => malformed.push(format!(
                "{name}: the string at offset {} cannot be read as UTF-8",
                entry.d_val
            )),
        }
    }
    strings
}

/// IBT and SHSTK bits of `GNU_PROPERTY_X86_FEATURE_1_AND` in `.note.gnu.property`.
fn cet_features(elf: &goblin::elf::Elf, bytes: &[u8]) -> (Option<bool>, Option<bool>) {
    const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
    const X86_FEATURE_1_AND: u32 = 0xc000_0002;
    let Some(notes) = elf.iter_note_sections(bytes, Some(".note.gnu.property")) else {
        return (None, None);
    };
    let align = if elf.is_64 { 8 } else { 4 };
    for note in notes.flatten() {
        if note.n_type != NT_GNU_PROPERTY_TYPE_0 || note.name != "GNU" {
            continue;
        }
        let mut desc = note.desc;
        while desc.len() >= 8 {
            let read_u32 = |b: &[u8]| {
                let a: [u8; 4] = [b[0], b[1], b[2], b[3]];
                if elf.little_endian {
                    u32::from_le_bytes(a)
                } else {
                    u32::from_be_bytes(a)
                }
            };
            let pr_type = read_u32(&desc[0..4]);
            let size = read_u32(&desc[4..8]) as usize;
            let Some(data) = desc.get(8..8usize.saturating_add(size)) else {
                break;
            };
            if pr_type == X86_FEATURE_1_AND && data.len() >= 4 {
                let bits = read_u32(data);
                return (Some(bits & 1 != 0), Some(bits & 2 != 0));
            }
            let advance = (8 + size).div_ceil(align) * align;
            desc = desc.get(advance..).unwrap_or_default();
        }
    }
    (Some(false), Some(false))
}

fn memmem(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Reads at most `limit` bytes of `reader` (an ELF file's content) into memory.
pub fn read_bounded(reader: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}
