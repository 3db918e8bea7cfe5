//! The kernel command line split as the kernel splits it: `next_arg` (lib/cmdline.c) for each
//! parameter, `parse_args` (kernel/params.c) stopping at `--`, whatever follows going to init
//! (init/main.c, `set_init_arg`). The kernel works on bytes, so this does too.

use std::collections::BTreeMap;

use serde::Serialize;

/// One kernel parameter: `key` with `-` read as `_` (the kernel's `parameq` treats them as the
/// same character in names), `value` without its quotes; `None` for a bare word like `nokaslr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmdlineOption {
    pub key: String,
    pub value: Option<String>,
}

/// The command line as facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmdlineFacts {
    /// Every kernel parameter, in order, repeats kept.
    pub options: Vec<CmdlineOption>,
    /// What follows `--`: init's arguments, `name=value` rejoined as the kernel does.
    pub init_args: Vec<String>,
    /// Each parameter's last value: for most parameters (`init`, `panic`, `lockdown`,
    /// `mitigations`, `module.sig_enforce` …) the last occurrence is the one that counts. A bare
    /// word (`nokaslr`, `slab_nomerge`, `debug`) maps to `null`.
    pub effective: BTreeMap<String, Option<String>>,
    /// Every `console=`, in order: each registers a console, the last is /dev/console.
    pub consoles: Vec<String>,
    /// The line's length in bytes, to compare with the kernel's `cmdline_size`.
    pub bytes: usize,
}

/// The kernel parameters of `line` (up to `--`), in order.
pub fn cmdline(line: &str) -> Vec<CmdlineOption> {
    split(line).0
}

pub fn cmdline_facts(line: &str) -> CmdlineFacts {
    let (options, init_args) = split(line);
    let effective = options.iter().map(|o| (o.key.clone(), o.value.clone())).collect();
    let consoles = options
        .iter()
        .filter(|o| o.key == "console")
        .filter_map(|o| o.value.clone())
        .collect();
    CmdlineFacts {
        options,
        init_args,
        effective,
        consoles,
        bytes: line.len(),
    }
}

/// The kernel's `isspace` (lib/ctype.c): ASCII white space and 0xA0, Latin-1's no-break space,
/// which in UTF-8 is the last byte of `à`, `NBSP` and others.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0)
}

fn split(line: &str) -> (Vec<CmdlineOption>, Vec<String>) {
    // A C string: the kernel never sees past a NUL.
    let end = line.bytes().position(|b| b == 0).unwrap_or(line.len());
    let mut buf = line.as_bytes()[..end].to_vec();
    buf.push(0);
    let mut at = skip_spaces(&buf, 0);
    let mut options = Vec::new();
    let mut init_args = Vec::new();
    let mut after_dashes = false;
    while buf[at] != 0 {
        let (param, value, next) = next_arg(&mut buf, at);
        at = next;
        let param = text(&buf, param);
        let value = value.map(|v| text(&buf, v));
        if after_dashes {
            init_args.push(match value {
                Some(v) => format!("{param}={v}"),
                None => param,
            });
        } else if value.is_none() && param == "--" {
            after_dashes = true;
        } else {
            options.push(CmdlineOption {
                key: param.replace('-', "_"),
                value,
            });
        }
    }
    (options, init_args)
}

fn skip_spaces(buf: &[u8], mut at: usize) -> usize {
    while is_space(buf[at]) {
        at += 1;
    }
    at
}

/// The NUL-terminated string at `at`.
fn text(buf: &[u8], at: usize) -> String {
    let end = buf[at..].iter().position(|&b| b == 0).map_or(buf.len(), |n| at + n);
    String::from_utf8_lossy(&buf[at..end]).into_owned()
}

/// lib/cmdline.c `next_arg`, step for step on a NUL-terminated buffer: quotes group spaces, a
/// value's surrounding quotes go, a leading quote of the whole parameter goes with its closing
/// one. Returns where the parameter and value start and where the next parameter does.
fn next_arg(buf: &mut [u8], mut args: usize) -> (usize, Option<usize>, usize) {
    let mut in_quote = false;
    let mut quoted = false;
    if buf[args] == b'"' {
        args += 1;
        in_quote = true;
        quoted = true;
    }
    let mut i = 0;
    let mut equals = 0;
    while buf[args + i] != 0 {
        let c = buf[args + i];
        if is_space(c) && !in_quote {
            break;
        }
        if equals == 0 && c == b'=' {
            equals = i;
        }
        if c == b'"' {
            in_quote = !in_quote;
        }
        i += 1;
    }
    let param = args;
    let mut value = None;
    if equals != 0 {
        buf[args + equals] = 0;
        let mut v = args + equals + 1;
        if buf[v] == b'"' {
            v += 1;
            if buf[args + i - 1] == b'"' {
                buf[args + i - 1] = 0;
            }
        }
        value = Some(v);
    }
    if quoted && i > 0 && buf[args + i - 1] == b'"' {
        buf[args + i - 1] = 0;
    }
    let next = if buf[args + i] != 0 {
        buf[args + i] = 0;
        args + i + 1
    } else {
        args + i
    };
    (param, value, skip_spaces(buf, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(line: &str) -> Vec<(String, Option<String>)> {
        cmdline(line).into_iter().map(|o| (o.key, o.value)).collect()
    }

    fn p(key: &str, value: Option<&str>) -> (String, Option<String>) {
        (key.into(), value.map(Into::into))
    }

    #[test]
    fn words_values_and_repeats_in_order() {
        assert_eq!(
            pairs("  console=tty0 console=ttyS0,115200n8\tnokaslr  panic=1 console=ttyAMA0 "),
            [
                p("console", Some("tty0")),
                p("console", Some("ttyS0,115200n8")),
                p("nokaslr", None),
                p("panic", Some("1")),
                p("console", Some("ttyAMA0")),
            ]
        );
        assert!(cmdline("").is_empty());
        assert!(cmdline(" \t\n ").is_empty());
    }

    #[test]
    fn quotes_group_spaces_and_are_dropped_as_the_kernel_drops_them() {
        assert_eq!(pairs(r#"foo="a b" bar"#), [p("foo", Some("a b")), p("bar", None)]);
        assert_eq!(pairs(r#""foo=a b" bar"#), [p("foo", Some("a b")), p("bar", None)]);
        assert_eq!(pairs(r#""two words""#), [p("two words", None)]);
        // Quotes inside a value stay; only a leading one and its partner at the end go.
        assert_eq!(pairs(r#"foo=a"b c"d"#), [p("foo", Some(r#"a"b c"d"#))]);
        assert_eq!(pairs(r#"foo="bar"baz x"#), [p("foo", Some(r#"bar"baz"#)), p("x", None)]);
        // An unclosed quote takes the rest of the line.
        assert_eq!(pairs(r#"a="b c d"#), [p("a", Some("b c d"))]);
        assert_eq!(pairs(r#"a=" b"#), [p("a", Some(" b"))]);
        assert_eq!(pairs(r#"a=""#), [p("a", Some(""))]);
        assert_eq!(pairs(r#"""#), [p("", None)]);
        assert_eq!(pairs("a= b"), [p("a", Some("")), p("b", None)]);
        // Only the first `=` splits.
        assert_eq!(pairs("root=PARTUUID=ab-cd"), [p("root", Some("PARTUUID=ab-cd"))]);
    }

    #[test]
    fn dashes_and_underscores_are_one_character_in_names_only() {
        assert_eq!(
            pairs("module.sig-enforce=1 slab-nomerge init_on-alloc=1 foo=a-b"),
            [
                p("module.sig_enforce", Some("1")),
                p("slab_nomerge", None),
                p("init_on_alloc", Some("1")),
                p("foo", Some("a-b")),
            ]
        );
    }

    #[test]
    fn double_dash_ends_the_kernel_parameters() {
        let facts = cmdline_facts(r#"console=tty0 -- single "x y" a=b -- nokaslr"#);
        assert_eq!(
            facts.options,
            [CmdlineOption {
                key: "console".into(),
                value: Some("tty0".into())
            }]
        );
        assert_eq!(facts.init_args, ["single", "x y", "a=b", "--", "nokaslr"]);
        // `--=x` has a value: it is a parameter, not the end.
        assert_eq!(pairs("--=x y"), [p("__", Some("x")), p("y", None)]);
    }

    #[test]
    fn the_kernels_white_space_includes_byte_0xa0() {
        // "à" is C3 A0 in UTF-8: the kernel ends the word at its second byte.
        assert_eq!(pairs("foo=là bar"), [p("foo", Some("l\u{fffd}")), p("bar", None)]);
        // A NUL ends the C string the kernel is given.
        assert_eq!(pairs("a=1\0 nokaslr"), [p("a", Some("1"))]);
    }

    #[test]
    fn facts_a_policy_reads() {
        let facts = cmdline_facts(
            "console=tty0 init=/bin/sh panic=0 panic=10 lockdown=integrity slab_nomerge mitigations=off \
             nokaslr debug console=ttyS0 module.sig_enforce",
        );
        let e = &facts.effective;
        assert_eq!(facts.consoles, ["tty0", "ttyS0"]);
        assert_eq!(e["console"].as_deref(), Some("ttyS0"));
        assert_eq!(e["init"].as_deref(), Some("/bin/sh"));
        assert_eq!(e["panic"].as_deref(), Some("10"));
        assert_eq!(e["lockdown"].as_deref(), Some("integrity"));
        assert_eq!(e["mitigations"].as_deref(), Some("off"));
        assert_eq!(e["slab_nomerge"], None);
        assert!(e.contains_key("nokaslr") && e.contains_key("debug"));
        assert_eq!(e["module.sig_enforce"], None);
        assert!(!e.contains_key("init_on_alloc"));
        assert_eq!(cmdline_facts("a=1 b").bytes, 5);
        let json = serde_json::to_value(&facts).unwrap();
        assert_eq!(json["effective"]["nokaslr"], serde_json::Value::Null);
    }

    #[test]
    fn hostile_lines_end_and_stay_bounded() {
        let quotes = "\"".repeat(10_001);
        assert_eq!(cmdline(&quotes).len(), 1);
        let many = "a ".repeat(50_000);
        assert_eq!(cmdline(&many).len(), 50_000);
        let equals = "=".repeat(1000);
        // An `=` at the very start does not count (the kernel's `equals == 0` means none yet).
        assert_eq!(pairs(&equals), [p("=", Some(&"=".repeat(998)))]);
    }
}
