//! Linux capability names, in kernel number order (`include/uapi/linux/capability.h`).
//!
//! The order matters: LinuxKit expands `capabilities: [all]` to this list as is (the list of
//! `moby/sys/capability` v0.4.0, CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40), and the file
//! capability decoder maps bit numbers through it.

pub const ALL: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

pub fn is_known(name: &str) -> bool {
    ALL.contains(&name)
}

/// The spelling a user most likely meant (`sys_admin` → `CAP_SYS_ADMIN`), if any.
pub fn suggest(name: &str) -> Option<&'static str> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    ALL.iter().copied().find(|known| *known == full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_the_kernel_header() {
        assert_eq!(ALL[0], "CAP_CHOWN");
        assert_eq!(ALL[21], "CAP_SYS_ADMIN");
        assert_eq!(ALL[40], "CAP_CHECKPOINT_RESTORE");
    }

    #[test]
    fn suggests_canonical_spelling() {
        assert_eq!(suggest("sys_admin"), Some("CAP_SYS_ADMIN"));
        assert_eq!(suggest("cap_net_raw"), Some("CAP_NET_RAW"));
        assert_eq!(suggest("CAP_NOPE"), None);
    }
}
