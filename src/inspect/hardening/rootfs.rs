//! Facts about a component's files that bear on hardening: special permission bits, owners no
//! account names, accounts that are root or open, sshd's effective settings, sudo rules without a
//! password, tools an attacker would want (shells, package managers), and ssh host keys baked
//! into the image (every machine booted from it shares them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::image::rootfs::{Entry, Kind, Rootfs};
use crate::inspect::sbom::{Files, Problem};

/// Where sshd reads its configuration; `Include`s are resolved below /etc/ssh.
const SSHD_CONFIG: &str = "etc/ssh/sshd_config";
/// sshd's own bound on nested `Include`s (READCONF_MAX_DEPTH).
const MAX_INCLUDE_DEPTH: usize = 16;
/// Lines longer than this are not configuration: they are skipped with a problem.
const MAX_LINE: usize = 64 << 10;
/// Paths listed per fact before the rest are only counted.
const MAX_LISTED: usize = 200;

/// The files these facts are read from, so the one pass over the layers keeps them.
pub fn wanted(path: &Path) -> bool {
    matches!(
        path.to_str(),
        Some("etc/passwd" | "etc/shadow" | "etc/group" | "etc/sudoers")
    ) || path.starts_with("etc/ssh") && !path.to_string_lossy().ends_with(".pub")
        || path.starts_with("etc/sudoers.d")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RootfsFacts {
    /// Files with the setuid or setgid bit.
    pub setuid_setgid: Vec<SpecialFile>,
    /// Files and folders anyone may write, folders without the sticky bit that makes that safe.
    pub world_writable: Vec<WritableEntry>,
    /// Owners the image's /etc/passwd or /etc/group does not name, with a few of their files.
    pub unknown_owners: Vec<UnknownOwner>,
    pub accounts: Accounts,
    /// sshd's effective global settings, when the image has an sshd_config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sshd: Option<SshdSettings>,
    /// sudoers rules that need no password.
    pub sudo_nopasswd: Vec<ConfigLine>,
    /// Shells and package managers present (paths).
    pub shells: Vec<String>,
    pub package_managers: Vec<String>,
    /// Private ssh host keys shipped in the image.
    pub ssh_host_keys: Vec<String>,
    /// Entries of a list left out beyond [`MAX_LISTED`], per list.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub truncated: BTreeMap<&'static str, usize>,
    /// What could not be read, and why.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecialFile {
    pub path: String,
    /// Permission bits with setuid, setgid and sticky, as a number (policy tests bits).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub setuid: bool,
    pub setgid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WritableEntry {
    pub path: String,
    /// `file` or `dir`.
    pub kind: &'static str,
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownOwner {
    /// `uid` or `gid`.
    pub kind: &'static str,
    pub id: u64,
    pub files: usize,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accounts {
    /// Whether the image has an /etc/passwd at all.
    pub passwd: bool,
    /// Accounts with uid 0.
    pub uid0: Vec<String>,
    /// Accounts whose shell lets them log in (not nologin or false).
    pub login_shells: Vec<LoginShell>,
    /// Accounts that log in without a password: an empty field in /etc/shadow, or in
    /// /etc/passwd with no shadow entry to override it.
    pub empty_passwords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginShell {
    pub name: String,
    pub uid: u64,
    pub shell: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshdSettings {
    pub permit_root_login: Setting,
    pub password_authentication: Setting,
    pub permit_empty_passwords: Setting,
    /// The files read, the main one first, in the order sshd reads them.
    pub files: Vec<String>,
    /// Keys set inside `Match` blocks, which apply to some connections only.
    pub conditional: Vec<ConfigLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub value: String,
    /// Where it was set; `None` when it is sshd's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigLine {
    pub file: String,
    pub line: usize,
    pub text: String,
}

const SHELLS: [&str; 8] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "csh", "busybox"];
const PACKAGE_MANAGERS: [&str; 10] = [
    "apt", "apt-get", "dpkg", "apk", "rpm", "dnf", "yum", "microdnf", "pip", "npm",
];
const BIN_DIRS: [&str; 4] = ["bin", "sbin", "usr/bin", "usr/sbin"];

pub fn rootfs_facts(rootfs: &Rootfs, files: &Files) -> RootfsFacts {
    let mut facts = RootfsFacts::default();
    let mut problems = Vec::new();
    let passwd = read_table(files, "etc/passwd", 7, &mut problems);
    let group = read_table(files, "etc/group", 4, &mut problems);
    let shadow = read_table(files, "etc/shadow", 9, &mut problems);
    facts.accounts = accounts(passwd.as_deref(), shadow.as_deref());
    let known = |table: &Option<Vec<Vec<String>>>| -> Option<BTreeSet<u64>> {
        table
            .as_ref()
            .map(|rows| rows.iter().filter_map(|r| r[2].parse().ok()).chain([0]).collect())
    };
    let (uids, gids) = (known(&passwd), known(&group));

    let mut unknown: BTreeMap<(&'static str, u64), (usize, Vec<String>)> = BTreeMap::new();
    for (path, entry) in &rootfs.entries {
        let text = path.display().to_string();
        if entry.kind == Kind::File && entry.mode & 0o6000 != 0 {
            push(
                &mut facts.setuid_setgid,
                &mut facts.truncated,
                "setuid_setgid",
                SpecialFile {
                    path: text.clone(),
                    mode: entry.mode,
                    uid: entry.uid,
                    gid: entry.gid,
                    setuid: entry.mode & 0o4000 != 0,
                    setgid: entry.mode & 0o2000 != 0,
                },
            );
        }
        if let Some(kind) = world_writable(entry) {
            push(
                &mut facts.world_writable,
                &mut facts.truncated,
                "world_writable",
                WritableEntry {
                    path: text.clone(),
                    kind,
                    mode: entry.mode,
                },
            );
        }
        for (kind, id, known) in [("uid", entry.uid, &uids), ("gid", entry.gid, &gids)] {
            if known.as_ref().is_some_and(|k| !k.contains(&id)) {
                let (count, examples) = unknown.entry((kind, id)).or_default();
                *count += 1;
                if examples.len() < 5 {
                    examples.push(text.clone());
                }
            }
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let in_bin = path
            .parent()
            .and_then(Path::to_str)
            .is_some_and(|p| BIN_DIRS.contains(&p));
        if in_bin && matches!(entry.kind, Kind::File | Kind::Symlink { .. }) {
            if SHELLS.contains(&name) {
                facts.shells.push(text.clone());
            }
            if PACKAGE_MANAGERS.contains(&name) {
                facts.package_managers.push(text.clone());
            }
        }
        if entry.kind == Kind::File
            && path.parent() == Some(Path::new("etc/ssh"))
            && name.starts_with("ssh_host_")
            && name.ends_with("_key")
        {
            facts.ssh_host_keys.push(text);
        }
    }
    facts.unknown_owners = unknown
        .into_iter()
        .map(|((kind, id), (files, examples))| UnknownOwner {
            kind,
            id,
            files,
            examples,
        })
        .collect();
    facts.sshd = sshd_settings(files, &mut problems);
    facts.sudo_nopasswd = sudo_nopasswd(files, &mut problems);
    problems.sort();
    facts.problems = problems;
    facts
}

fn push<T>(list: &mut Vec<T>, truncated: &mut BTreeMap<&'static str, usize>, name: &'static str, item: T) {
    if list.len() < MAX_LISTED {
        list.push(item);
    } else {
        *truncated.entry(name).or_default() += 1;
    }
}

/// `file` or `dir` when anyone may write it; a folder with the sticky bit (/tmp) is the accepted
/// pattern, and a symlink's own mode means nothing.
fn world_writable(entry: &Entry) -> Option<&'static str> {
    if entry.mode & 0o002 == 0 {
        return None;
    }
    match entry.kind {
        Kind::File => Some("file"),
        Kind::Dir if entry.mode & 0o1000 == 0 => Some("dir"),
        _ => None,
    }
}

/// The lines of a colon-separated table (passwd, group, shadow), each padded to `fields`.
/// `None` when the image has no such file.
fn read_table(files: &Files, path: &str, fields: usize, problems: &mut Vec<Problem>) -> Option<Vec<Vec<String>>> {
    let bytes = files.get(Path::new(path))?;
    let mut rows = Vec::new();
    for (i, line) in lines(bytes, path, problems) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut row: Vec<String> = line.split(':').map(str::to_owned).collect();
        if row.len() < 3 && fields > 3 {
            problems.push(Problem {
                file: path.to_owned(),
                line: i,
                message: "not an entry of colon-separated fields".into(),
            });
            continue;
        }
        row.resize(fields.max(row.len()), String::new());
        rows.push(row);
    }
    Some(rows)
}

/// Numbered lines, lossily decoded; over-long ones are skipped with a problem.
fn lines<'a>(bytes: &'a [u8], file: &str, problems: &mut Vec<Problem>) -> Vec<(usize, std::borrow::Cow<'a, str>)> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.len() > MAX_LINE {
            problems.push(Problem {
                file: file.to_owned(),
                line: i + 1,
                message: format!("a line of {} bytes: skipped", line.len()),
            });
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.push((i + 1, String::from_utf8_lossy(line)));
    }
    out
}

fn accounts(passwd: Option<&[Vec<String>]>, shadow: Option<&[Vec<String>]>) -> Accounts {
    let Some(passwd) = passwd else {
        return Accounts::default();
    };
    let shadowed: BTreeMap<&str, &str> = shadow
        .unwrap_or_default()
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let mut out = Accounts {
        passwd: true,
        ..Accounts::default()
    };
    for row in passwd {
        let (name, password, uid, shell) = (&row[0], &row[1], &row[2], &row[6]);
        let uid: Option<u64> = uid.parse().ok();
        if uid == Some(0) {
            out.uid0.push(name.clone());
        }
        let shell_base = shell.rsplit('/').next().unwrap_or("");
        if !shell.is_empty() && !matches!(shell_base, "nologin" | "false" | "sync" | "halt" | "shutdown") {
            out.login_shells.push(LoginShell {
                name: name.clone(),
                uid: uid.unwrap_or(u64::MAX),
                shell: shell.clone(),
            });
        }
        // An `x` defers to shadow; anything else in passwd is the (hashed) password itself.
        let empty = match (password.as_str(), shadowed.get(name.as_str())) {
            ("x", Some(hash)) => hash.is_empty(),
            ("x", None) => false,
            (p, _) => p.is_empty(),
        };
        if empty {
            out.empty_passwords.push(name.clone());
        }
    }
    out
}

/// sshd's effective global values of the settings that decide who may log in, reading the
/// files as sshd does: the first value obtained wins, `Include` is read where it stands, and
/// `Match` blocks only apply to some connections.
fn sshd_settings(files: &Files, problems: &mut Vec<Problem>) -> Option<SshdSettings> {
    files.get(Path::new(SSHD_CONFIG))?;
    let mut state = SshdRead {
        values: BTreeMap::new(),
        files: Vec::new(),
        conditional: Vec::new(),
        in_match: false,
    };
    state.read(files, SSHD_CONFIG, 0, problems);
    let setting = |key: &str, default: &str| match state.values.get(key) {
        Some((value, at)) => Setting {
            value: value.clone(),
            at: Some(at.clone()),
        },
        None => Setting {
            value: default.to_owned(),
            at: None,
        },
    };
    Some(SshdSettings {
        permit_root_login: setting("permitrootlogin", "prohibit-password"),
        password_authentication: setting("passwordauthentication", "yes"),
        permit_empty_passwords: setting("permitemptypasswords", "no"),
        files: state.files.clone(),
        conditional: state.conditional,
    })
}

struct SshdRead {
    /// Lower-cased keyword → (value, `file:line`), the first global one.
    values: BTreeMap<String, (String, String)>,
    files: Vec<String>,
    conditional: Vec<ConfigLine>,
    in_match: bool,
}

impl SshdRead {
    fn read(&mut self, files: &Files, path: &str, depth: usize, problems: &mut Vec<Problem>) {
        let Some(bytes) = files.get(Path::new(path)) else {
            problems.push(Problem {
                file: path.to_owned(),
                line: 0,
                message: "included by sshd's configuration but not in the image (or not under etc/ssh)".into(),
            });
            return;
        };
        self.files.push(path.to_owned());
        for (n, line) in lines(bytes, path, problems) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = split_keyword(line);
            let key = key.to_ascii_lowercase();
            match key.as_str() {
                "match" => self.in_match = !value.eq_ignore_ascii_case("all"),
                "include" => {
                    if depth + 1 > MAX_INCLUDE_DEPTH {
                        problems.push(Problem {
                            file: path.to_owned(),
                            line: n,
                            message: format!("Include nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)"),
                        });
                        continue;
                    }
                    for pattern in value.split_whitespace() {
                        for included in expand_include(files, pattern) {
                            self.read(files, &included, depth + 1, problems);
                        }
                    }
                }
                _ if self.in_match => self.conditional.push(ConfigLine {
                    file: path.to_owned(),
                    line: n,
                    text: line.to_owned(),
                }),
                _ => {
                    self.values
                        .entry(key)
                        .or_insert_with(|| (value.to_owned(), format!("{path}:{n}")));
                }
            }
        }
    }
}

/// `Keyword value`, `Keyword=value` or `Keyword = value`.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    (key, rest.trim_matches('"'))
}

/// The collected files an `Include` pattern names, in lexical order as glob(3) gives them;
/// relative patterns are below /etc/ssh.
fn expand_include(files: &Files, pattern: &str) -> Vec<String> {
    let pattern = match pattern.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("etc/ssh/{pattern}"),
    };
    if !pattern.contains(['*', '?', '[']) {
        return vec![pattern];
    }
    let mut out: Vec<String> = files
        .contents
        .keys()
        .filter_map(|p| p.to_str())
        .filter(|p| glob_match(pattern.as_bytes(), p.as_bytes()))
        .map(str::to_owned)
        .collect();
    out.sort();
    out
}

/// `*` and `?` within one path component, as glob(3) without brackets.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], text)
                || (text.first().is_some_and(|&c| c != b'/') && glob_match(pattern, &text[1..]))
        }
        (Some(b'?'), Some(&c)) if c != b'/' => glob_match(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob_match(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// sudoers lines granting commands without a password (`NOPASSWD:`), in /etc/sudoers and the
/// files of /etc/sudoers.d.
fn sudo_nopasswd(files: &Files, problems: &mut Vec<Problem>) -> Vec<ConfigLine> {
    let paths: Vec<PathBuf> = files
        .contents
        .keys()
        .filter(|p| p.as_path() == Path::new("etc/sudoers") || p.starts_with("etc/sudoers.d"))
        .cloned()
        .collect();
    let mut out = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let Some(bytes) = files.get(&path) else { continue };
        for (n, line) in lines(bytes, &file, problems) {
            let text = line.trim();
            if !text.starts_with('#') && text.contains("NOPASSWD") {
                out.push(ConfigLine {
                    file: file.clone(),
                    line: n,
                    text: text.to_owned(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<PathBuf, Vec<u8>> {
        list.iter()
            .map(|(p, c)| (PathBuf::from(p), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn sshd_follows_includes_and_first_value_wins() {
        let contents = files(&[
            (
                "etc/ssh/sshd_config",
                "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nMatch User git\n  PasswordAuthentication yes\n",
            ),
            ("etc/ssh/sshd_config.d/10-root.conf", "PermitRootLogin=yes\n"),
            (
                "etc/ssh/sshd_config.d/20-empty.conf",
                "permitemptypasswords \"yes\"\nInclude loop.conf\n",
            ),
            ("etc/ssh/loop.conf", "Include loop.conf\n"),
        ]);
        let rootfs = Rootfs::default();
        let f = Files {
            contents: &contents,
            rootfs: &rootfs,
        };
        let mut problems = Vec::new();
        let s = sshd_settings(&f, &mut problems).unwrap();
        assert_eq!(s.permit_root_login.value, "yes", "the include comes first");
        assert_eq!(
            s.permit_root_login.at.as_deref(),
            Some("etc/ssh/sshd_config.d/10-root.conf:1")
        );
        assert_eq!(s.permit_empty_passwords.value, "yes");
        assert_eq!(
            (
                s.password_authentication.value.as_str(),
                s.password_authentication.at.as_ref()
            ),
            ("yes", None)
        );
        assert_eq!(s.conditional.len(), 1, "the Match block's line is conditional");
        assert!(
            problems.iter().any(|p| p.message.contains("nested more than 16")),
            "{problems:?}"
        );
    }

    #[test]
    fn accounts_and_passwords() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\nbin:x:2:2::/bin:/usr/sbin/nologin\nopen::1000:1000::/home/open:/bin/sh\n";
        let shadow = "root::19000:0:99999:7:::\ntoor:!:19000::::::\n";
        let mut problems = Vec::new();
        let contents = files(&[("etc/passwd", passwd), ("etc/shadow", shadow)]);
        let rootfs = Rootfs::default();
        let f = Files {
            contents: &contents,
            rootfs: &rootfs,
        };
        let a = accounts(
            read_table(&f, "etc/passwd", 7, &mut problems).as_deref(),
            read_table(&f, "etc/shadow", 9, &mut problems).as_deref(),
        );
        assert_eq!(a.uid0, ["root", "toor"]);
        assert_eq!(a.empty_passwords, ["root", "open"]);
        assert_eq!(
            a.login_shells.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["root", "toor", "open"]
        );
    }

    #[test]
    fn globs_stay_in_one_component() {
        assert!(glob_match(b"etc/ssh/d/*.conf", b"etc/ssh/d/a.conf"));
        assert!(!glob_match(b"etc/ssh/*.conf", b"etc/ssh/d/a.conf"));
        assert!(glob_match(b"a?c", b"abc"));
    }
}
