//! Reading a kernel `.config` the way Kconfig's `conf_read_simple` does: `CONFIG_X=value` lines,
//! `# CONFIG_X is not set` lines, other comments and blank lines ignored; anything else is noted
//! as a problem and skipped, as Kconfig warns and goes on.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

/// Real configurations are about 260 KiB (Debian's 6.1: 10,644 lines, longest line 97 bytes).
pub const MAX_CONFIG_BYTES: usize = 4 << 20;
pub const MAX_LINES: usize = 100_000;
/// Long enough for any string option (CONFIG_CMDLINE is bounded by COMMAND_LINE_SIZE, at most
/// 4096 on every architecture).
pub const MAX_LINE_BYTES: usize = 16 << 10;
/// Problems kept word for word; past these only their number is.
const MAX_PROBLEMS: usize = 20;

/// One option's value as the file writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Yes,
    Module,
    /// `# CONFIG_X is not set`, or `CONFIG_X=n`, which Kconfig reads the same way.
    NotSet,
    /// A decimal or `0x` hexadecimal integer, as written.
    Number(String),
    /// A quoted string, unquoted and unescaped.
    Str(String),
    /// Anything else after the `=`, as written (Kconfig would reject it for a typed option).
    Other(String),
}

impl Value {
    /// The value as policies compare it: `y`, `m`, `is not set`, the number or string as written.
    pub fn text(&self) -> &str {
        match self {
            Value::Yes => "y",
            Value::Module => "m",
            Value::NotSet => "is not set",
            Value::Number(s) | Value::Str(s) | Value::Other(s) => s,
        }
    }

    /// The integer a number stands for, whether written in decimal or hexadecimal.
    pub fn integer(&self) -> Option<i128> {
        match self {
            Value::Number(s) => parse_integer(s),
            _ => None,
        }
    }

    fn parse(raw: &str) -> Value {
        if let Some(quoted) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return Value::Str(unescape(quoted));
        }
        match raw {
            "y" => Value::Yes,
            "m" => Value::Module,
            "n" => Value::NotSet,
            _ if parse_integer(raw).is_some() => Value::Number(raw.to_string()),
            _ => Value::Other(raw.to_string()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text())
    }
}

pub(crate) fn parse_integer(s: &str) -> Option<i128> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let magnitude = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            i128::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        None => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Kconfig writes `"` and `\` inside strings with a backslash before them.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The kernel release the configuration was made for, from its `# Linux/ARCH X.Y.Z Kernel
/// Configuration` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    /// `6.12`, `6.12.59`, `6.12.0-rc3`: numbers up to the first character that is not part of one.
    pub fn parse(s: &str) -> Option<KernelVersion> {
        let mut parts = s.splitn(3, '.');
        let number = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            let end = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
            p[..end].parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = parts.next().map_or(Some(0), |p| number(Some(p)))?;
        Some(KernelVersion { major, minor, patch })
    }
}

impl std::fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A kernel's configuration as facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelConfig {
    /// Where it was found: `kernel-dev.tar:usr/src/linux-headers-6.12.59-linuxkit/.config`,
    /// `boot/config-6.1.0-57-amd64`, `IKCONFIG in kernel (bzImage, xz)`.
    pub source: String,
    /// From the header comment; `None` when the file has none.
    pub version: Option<KernelVersion>,
    /// The architecture as `uname -m` names it, from the options (`X86_64`, `ARM64`, …).
    pub arch: Option<String>,
    /// Every option, without its `CONFIG_` prefix.
    pub options: BTreeMap<String, Value>,
    /// Lines that were not read, with the reason; empty for a file Kconfig wrote.
    pub problems: Vec<String>,
}

impl KernelConfig {
    /// Parses `bytes` as a `.config`; an error says why it is not one.
    pub fn parse(bytes: &[u8], source: &str) -> Result<KernelConfig, String> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(format!(
                "{} bytes: larger than the {MAX_CONFIG_BYTES}-byte limit for a kernel configuration",
                bytes.len()
            ));
        }
        let mut options = BTreeMap::new();
        let mut version = None;
        let mut problems = Vec::new();
        let mut skipped = 0usize;
        let mut note = |problems: &mut Vec<String>, line: usize, what: String| {
            skipped += 1;
            if problems.len() < MAX_PROBLEMS {
                problems.push(format!("line {line}: {what}"));
            }
        };
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            if number > MAX_LINES {
                problems.push(format!("more than {MAX_LINES} lines: the rest was not read"));
                break;
            }
            if raw.len() > MAX_LINE_BYTES {
                note(
                    &mut problems,
                    number,
                    format!("longer than {MAX_LINE_BYTES} bytes: skipped"),
                );
                continue;
            }
            let Ok(line) = std::str::from_utf8(raw) else {
                note(&mut problems, number, "not UTF-8: skipped".into());
                continue;
            };
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some(rest) = line.strip_prefix("# CONFIG_") {
                if let Some(name) = rest.strip_suffix(" is not set").filter(|n| is_symbol(n)) {
                    options.insert(name.to_string(), Value::NotSet);
                }
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if version.is_none() {
                    version = header_version(comment);
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let parsed = line
                .strip_prefix("CONFIG_")
                .and_then(|rest| rest.split_once('='))
                .filter(|(name, _)| is_symbol(name));
            match parsed {
                Some((name, raw_value)) => {
                    options.insert(name.to_string(), Value::parse(raw_value));
                }
                None => note(
                    &mut problems,
                    number,
                    "neither `CONFIG_NAME=value` nor a comment: skipped".into(),
                ),
            }
        }
        if skipped > MAX_PROBLEMS {
            problems.push(format!("{} more lines skipped", skipped - MAX_PROBLEMS));
        }
        if options.is_empty() {
            let why = problems.first().map_or(String::new(), |p| format!(" ({p})"));
            return Err(format!("no `CONFIG_` option in it: not a kernel configuration{why}"));
        }
        let arch = arch_of(&options);
        Ok(KernelConfig {
            source: source.to_string(),
            version,
            arch,
            options,
            problems,
        })
    }

    /// The option's value; `None` when the file does not mention it.
    pub fn get(&self, option: &str) -> Option<&Value> {
        self.options.get(option)
    }
}

fn is_symbol(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// ` Linux/x86 6.12.59 Kernel Configuration` → 6.12.59.
fn header_version(comment: &str) -> Option<KernelVersion> {
    let rest = comment.trim().strip_prefix("Linux/")?;
    let mut words = rest.split_whitespace();
    let _arch = words.next()?;
    let version = words.next()?;
    (words.next() == Some("Kernel")).then_some(())?;
    KernelVersion::parse(version)
}

/// The header says `Linux/x86` for both 32- and 64-bit kernels, so the options decide.
fn arch_of(options: &BTreeMap<String, Value>) -> Option<String> {
    let on = |name: &str| options.get(name) == Some(&Value::Yes);
    let arch = if on("X86_64") {
        "x86_64"
    } else if on("X86_32") {
        "i386"
    } else if on("ARM64") {
        "aarch64"
    } else if on("ARM") {
        "arm"
    } else if on("RISCV") && on("64BIT") {
        "riscv64"
    } else if on("RISCV") {
        "riscv32"
    } else {
        return None;
    };
    Some(arch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KernelConfig {
        KernelConfig::parse(text.as_bytes(), "test").unwrap()
    }

    #[test]
    fn every_kind_of_line_keeps_what_the_file_says() {
        let c = parse(concat!(
            "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.12.59 Kernel Configuration\n#\n",
            "CONFIG_X86_64=y\nCONFIG_EXT4_FS=m\n# CONFIG_KEXEC is not set\nCONFIG_PANIC_TIMEOUT=-1\n",
            "CONFIG_PHYSICAL_START=0x1000000\nCONFIG_LSM=\"yama,loadpin\"\n",
            "CONFIG_CMDLINE=\"say \\\"hi\\\" \\\\ there\"\nCONFIG_HANDWRITTEN=n\nCONFIG_ODD=maybe\n\n",
            "# a comment\n",
        ));
        assert_eq!(
            c.version,
            Some(KernelVersion {
                major: 6,
                minor: 12,
                patch: 59
            })
        );
        assert_eq!(c.arch.as_deref(), Some("x86_64"));
        assert_eq!(c.get("X86_64"), Some(&Value::Yes));
        assert_eq!(c.get("EXT4_FS"), Some(&Value::Module));
        assert_eq!(c.get("KEXEC"), Some(&Value::NotSet));
        assert_eq!(c.get("HANDWRITTEN"), Some(&Value::NotSet));
        assert_eq!(c.get("PANIC_TIMEOUT").and_then(Value::integer), Some(-1));
        assert_eq!(c.get("PHYSICAL_START").and_then(Value::integer), Some(0x1000000));
        assert_eq!(c.get("PHYSICAL_START").map(Value::text), Some("0x1000000"));
        assert_eq!(c.get("LSM"), Some(&Value::Str("yama,loadpin".into())));
        assert_eq!(c.get("CMDLINE").map(Value::text), Some("say \"hi\" \\ there"));
        assert_eq!(c.get("ODD"), Some(&Value::Other("maybe".into())));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["options"]["KEXEC"], "is not set");
        assert_eq!(json["options"]["PANIC_TIMEOUT"], "-1");
        assert_eq!(json["version"]["minor"], 12);
    }

    #[test]
    fn a_header_without_a_version_leaves_it_unknown() {
        let c = parse("# Linux/x86 Kernel Configuration\nCONFIG_BUG=y\n");
        assert_eq!(c.version, None);
        assert_eq!(c.arch, None);
        assert_eq!(
            KernelVersion::parse("6.12.0-rc3"),
            Some(KernelVersion {
                major: 6,
                minor: 12,
                patch: 0
            })
        );
        assert_eq!(
            KernelVersion::parse("6.6"),
            Some(KernelVersion {
                major: 6,
                minor: 6,
                patch: 0
            })
        );
        assert_eq!(KernelVersion::parse("six"), None);
    }

    #[test]
    fn binary_garbage_is_not_a_configuration() {
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let err = KernelConfig::parse(&garbage, "test").unwrap_err();
        assert!(err.contains("not a kernel configuration"), "{err}");
        let err = KernelConfig::parse(b"", "test").unwrap_err();
        assert!(err.contains("no `CONFIG_` option"), "{err}");
    }

    #[test]
    fn bad_lines_are_skipped_and_named_and_the_rest_is_read() {
        let mut text = b"CONFIG_BUG=y\n".to_vec();
        text.extend(vec![b'A'; MAX_LINE_BYTES + 1]);
        text.extend(b"\nCONFIG_\xff\xfe=y\nnonsense\nCONFIG_SECCOMP=y\n");
        for _ in 0..30 {
            text.extend(b"junk\n");
        }
        let c = KernelConfig::parse(&text, "test").unwrap();
        assert_eq!(c.get("SECCOMP"), Some(&Value::Yes));
        assert_eq!(
            c.problems[0],
            format!("line 2: longer than {MAX_LINE_BYTES} bytes: skipped")
        );
        assert_eq!(c.problems[1], "line 3: not UTF-8: skipped");
        assert_eq!(
            c.problems[2],
            "line 4: neither `CONFIG_NAME=value` nor a comment: skipped"
        );
        assert_eq!(c.problems.len(), MAX_PROBLEMS + 1);
        assert_eq!(c.problems[MAX_PROBLEMS], "13 more lines skipped");
    }

    #[test]
    fn size_and_line_count_are_bounded() {
        let big = vec![b'\n'; MAX_CONFIG_BYTES + 1];
        assert!(KernelConfig::parse(&big, "test").unwrap_err().contains("larger than"));
        let mut many = b"CONFIG_BUG=y\n".to_vec();
        many.extend(std::iter::repeat_n(b'\n', MAX_LINES + 5));
        let c = KernelConfig::parse(&many, "test").unwrap();
        assert_eq!(
            c.problems,
            [format!("more than {MAX_LINES} lines: the rest was not read")]
        );
    }
}
