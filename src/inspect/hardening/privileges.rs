//! What a container may do at run time, read from its *effective* configuration (YAML > image
//! label > image config > defaults, as LinuxKit computes it): judging the YAML alone would miss
//! what a label grants. Facts only; policy decides what is too much.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::caps;
use crate::effective::Component;
use crate::effective::oci::{Mount, NamespaceKind, Rlimit};

/// Capabilities that let a process become full root or escape its container, with why
/// (grsecurity's "False Boundaries and Arbitrary Code Execution", and the kernel's own
/// capabilities(7); CAP_BPF and CAP_SYS_BOOT added for what they reach since).
pub const ROOT_EQUIVALENT: [(&str, &str); 20] = [
    ("CAP_SYS_ADMIN", "mount, namespaces, and most of what root does"),
    ("CAP_SYS_MODULE", "loads kernel modules: code in the kernel"),
    ("CAP_SYS_RAWIO", "raw I/O ports and /dev/mem"),
    ("CAP_SYS_PTRACE", "traces and injects code into any process"),
    ("CAP_SYS_BOOT", "kexec loads another kernel"),
    ("CAP_SYS_TTY_CONFIG", "pushes input into terminals (TIOCSTI)"),
    ("CAP_DAC_OVERRIDE", "ignores file permissions"),
    (
        "CAP_DAC_READ_SEARCH",
        "reads any file, opens by handle outside the root",
    ),
    ("CAP_FOWNER", "acts as the owner of any file"),
    ("CAP_FSETID", "keeps setuid bits on modified files"),
    ("CAP_CHOWN", "takes ownership of any file"),
    ("CAP_SETUID", "becomes any user, root included"),
    ("CAP_SETGID", "becomes any group"),
    ("CAP_SETFCAP", "grants file capabilities"),
    ("CAP_SETPCAP", "grants itself capabilities"),
    ("CAP_NET_ADMIN", "reconfigures the network, firewall and routing"),
    ("CAP_MKNOD", "creates device nodes, e.g. of the host's disks"),
    ("CAP_MAC_ADMIN", "changes the mandatory access control policy"),
    ("CAP_MAC_OVERRIDE", "bypasses mandatory access control"),
    ("CAP_BPF", "loads BPF programs into the kernel"),
];

/// Host paths whose bind gives a container power over the host, with why.
const SENSITIVE_HOST_PATHS: [(&str, &str); 12] = [
    ("/", "the host's whole root"),
    ("/dev", "the host's devices"),
    ("/proc", "the host's processes and kernel tunables"),
    ("/sys", "the host's kernel and device tree"),
    ("/etc", "the host's configuration and accounts"),
    ("/boot", "the host's kernel and boot files"),
    ("/lib/modules", "the host's kernel modules"),
    ("/var/run", "the host's runtime sockets"),
    ("/run", "the host's runtime sockets"),
    ("/containers", "every container's bundle and root"),
    ("/var/lib/containerd", "the container runtime's state"),
    ("/var/lib/docker", "the container runtime's state"),
];

/// Environment names whose values are credentials.
const SECRET_ENV_WORDS: [&str; 9] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Privileges {
    /// Every capability the process holds or may gain (bounding, effective, permitted, ambient).
    pub capabilities: Vec<String>,
    /// All of them: `capabilities: [all]`, or a list naming each.
    pub all_capabilities: bool,
    /// The root-equivalent ones among them, with why each is.
    pub root_equivalent: Vec<Flagged>,
    /// Kept across execve even by unprivileged programs.
    pub ambient_capabilities: Vec<String>,
    /// Namespaces shared with the host (`net`, `pid`, `ipc`, `uts`, `user`, `mnt`), and joined
    /// ones by path.
    pub host_namespaces: Vec<String>,
    pub joined_namespaces: BTreeMap<String, String>,
    /// Every bind mount of a host path.
    pub binds: Vec<HostBind>,
    /// Device cgroup rules that allow access, and device nodes created in the container.
    pub device_access: Vec<DeviceAccess>,
    /// Whether any rule allows every device of a class (`devices: [{path: all}]`).
    pub all_devices: bool,
    pub readonly_rootfs: bool,
    pub no_new_privileges: bool,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub runs_as_root: bool,
    /// OCI defaults hide parts of /proc and /sys; empty lists mean nothing is hidden.
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    /// LinuxKit has no seccomp setting: every container runs without a syscall filter.
    pub seccomp: &'static str,
    pub sysctls: BTreeMap<String, String>,
    pub rlimits: Vec<Rlimit>,
    /// Environment entries that hold credentials or switch a security feature off.
    pub env: Vec<EnvFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    pub name: String,
    pub why: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostBind {
    pub source: String,
    pub destination: String,
    pub writable: bool,
    /// Why the source is sensitive, when it is (it or a parent of it is in the list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAccess {
    /// `c`, `b`, or `a` for both.
    pub kind: String,
    /// `None`: every device of the kind.
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub access: String,
    /// A node created in the container for it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvFinding {
    pub name: String,
    /// `credential` or `security-off`.
    pub kind: &'static str,
    /// The value for switches (`INSECURE=true`); never a credential's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The privileges of one container.
pub fn privileges(component: &Component) -> Privileges {
    let spec = &component.config;
    let process = &spec.process;
    let c = &process.capabilities;
    let held: BTreeSet<&String> = c
        .bounding
        .iter()
        .chain(&c.effective)
        .chain(&c.permitted)
        .chain(&c.ambient)
        .collect();
    let capabilities: Vec<String> = held.iter().map(|s| (*s).clone()).collect();
    let all_capabilities = caps::ALL.iter().all(|cap| held.iter().any(|h| h.as_str() == *cap));
    let root_equivalent = ROOT_EQUIVALENT
        .iter()
        .filter(|(cap, _)| held.iter().any(|h| h.as_str() == *cap))
        .map(|(cap, why)| Flagged {
            name: (*cap).to_owned(),
            why,
        })
        .collect();

    let own: BTreeMap<NamespaceKind, &str> = spec
        .linux
        .namespaces
        .iter()
        .map(|n| (n.kind, n.path.as_str()))
        .collect();
    let mut host_namespaces = Vec::new();
    let mut joined_namespaces = BTreeMap::new();
    for (kind, name) in [
        (NamespaceKind::Network, "net"),
        (NamespaceKind::Pid, "pid"),
        (NamespaceKind::Ipc, "ipc"),
        (NamespaceKind::Uts, "uts"),
        (NamespaceKind::User, "user"),
        (NamespaceKind::Mount, "mnt"),
    ] {
        match own.get(&kind) {
            None => host_namespaces.push(name.to_owned()),
            // pid 1's namespaces are the host's.
            Some(path) if path.starts_with("/proc/1/ns/") => host_namespaces.push(name.to_owned()),
            Some(path) if !path.is_empty() => {
                joined_namespaces.insert(name.to_owned(), (*path).to_owned());
            }
            Some(_) => {}
        }
    }

    let binds = spec.mounts.iter().filter(|m| is_bind(m)).map(host_bind).collect();

    let mut device_access = Vec::new();
    for rule in spec.linux.resources.devices.iter().filter(|d| d.allow) {
        let node = spec
            .linux
            .devices
            .iter()
            .find(|d| Some(d.major) == rule.major && Some(d.minor) == rule.minor)
            .map(|d| d.path.clone());
        device_access.push(DeviceAccess {
            kind: rule
                .kind
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "a".into()),
            major: rule.major,
            minor: rule.minor,
            access: rule.access.clone().unwrap_or_else(|| "rwm".into()),
            node,
        });
    }
    let all_devices = device_access.iter().any(|d| d.major.is_none() || d.minor.is_none());

    Privileges {
        capabilities,
        all_capabilities,
        root_equivalent,
        ambient_capabilities: c.ambient.clone(),
        host_namespaces,
        joined_namespaces,
        binds,
        device_access,
        all_devices,
        readonly_rootfs: spec.root.readonly,
        no_new_privileges: process.no_new_privileges,
        uid: process.user.uid,
        gid: process.user.gid,
        additional_gids: process.user.additional_gids.clone(),
        runs_as_root: process.user.uid == 0,
        masked_paths: spec.linux.masked_paths.clone(),
        readonly_paths: spec.linux.readonly_paths.clone(),
        seccomp: "none",
        sysctls: spec.linux.sysctl.clone(),
        rlimits: process.rlimits.clone(),
        env: process.env.iter().filter_map(|e| env_finding(e)).collect(),
    }
}

fn is_bind(m: &Mount) -> bool {
    m.kind == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind")
}

fn host_bind(m: &Mount) -> HostBind {
    let source = m.source.trim_end_matches('/');
    let source = if source.is_empty() { "/" } else { source };
    let sensitive = if source.ends_with(".sock") {
        Some("a runtime or service socket".to_owned())
    } else {
        SENSITIVE_HOST_PATHS
            .iter()
            .filter(|(path, _)| {
                // The path itself, or anything below it; `/` is sensitive only itself.
                source == *path || (*path != "/" && source.starts_with(&format!("{path}/")))
            })
            .map(|(path, why)| {
                if source == *path {
                    (*why).to_owned()
                } else {
                    format!("inside {path}: {why}")
                }
            })
            .next()
    };
    HostBind {
        source: m.source.clone(),
        destination: m.destination.clone(),
        writable: !m.options.iter().any(|o| o == "ro"),
        sensitive,
    }
}

/// A credential in an environment name, or a switch that turns security off.
fn env_finding(entry: &str) -> Option<EnvFinding> {
    let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
    let upper = name.to_ascii_uppercase();
    let truthy = matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on");
    let falsy = matches!(value.to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off");
    let switches_off = (upper.contains("INSECURE") && truthy)
        || (upper.starts_with("DISABLE_") && upper.contains("SECUR") && truthy)
        || (upper.ends_with("SSL_NO_VERIFY") && truthy)
        || ((upper.ends_with("TLS_VERIFY") || upper.ends_with("SSL_VERIFY") || upper.ends_with("HTTPSVERIFY"))
            && falsy)
        || (upper == "NODE_TLS_REJECT_UNAUTHORIZED" && value == "0");
    if switches_off {
        return Some(EnvFinding {
            name: name.to_owned(),
            kind: "security-off",
            value: Some(value.to_owned()),
        });
    }
    let placeholder = value.is_empty() || value.starts_with('$') || value.starts_with('<');
    if !placeholder && SECRET_ENV_WORDS.iter().any(|w| upper.contains(w)) {
        return Some(EnvFinding {
            name: name.to_owned(),
            kind: "credential",
            value: None,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment() {
        let f = |e: &str| env_finding(e).map(|f| (f.kind, f.value));
        assert_eq!(f("INSECURE=true"), Some(("security-off", Some("true".into()))));
        assert_eq!(f("INSECURE=false"), None);
        assert_eq!(f("GIT_SSL_NO_VERIFY=1"), Some(("security-off", Some("1".into()))));
        assert_eq!(f("PYTHONHTTPSVERIFY=0"), Some(("security-off", Some("0".into()))));
        assert_eq!(
            f("NODE_TLS_REJECT_UNAUTHORIZED=0"),
            Some(("security-off", Some("0".into())))
        );
        assert_eq!(f("DB_PASSWORD=hunter2"), Some(("credential", None)), "never the value");
        assert_eq!(f("DB_PASSWORD="), None, "nothing set");
        assert_eq!(f("API_TOKEN=${TOKEN}"), None, "a placeholder");
        assert_eq!(f("PATH=/usr/bin"), None);
    }

    #[test]
    fn binds() {
        let m = |source: &str, options: &[&str]| Mount {
            destination: "/x".into(),
            kind: "bind".into(),
            source: source.into(),
            options: options.iter().map(|s| (*s).to_owned()).collect(),
        };
        let b = host_bind(&m("/", &["rbind", "rw"]));
        assert_eq!(
            (b.writable, b.sensitive.as_deref()),
            (true, Some("the host's whole root"))
        );
        let b = host_bind(&m("/etc/resolv.conf", &["rbind", "ro"]));
        assert!(!b.writable);
        assert_eq!(
            b.sensitive.as_deref(),
            Some("inside /etc: the host's configuration and accounts")
        );
        assert_eq!(
            host_bind(&m("/var/run/docker.sock", &["bind"])).sensitive.as_deref(),
            Some("a runtime or service socket")
        );
        assert_eq!(
            host_bind(&m("/var/lib/app", &["bind"])).sensitive,
            None,
            "/ is sensitive only itself"
        );
        assert_eq!(
            host_bind(&m("/runner", &["bind"])).sensitive,
            None,
            "a prefix is not a parent"
        );
    }
}
