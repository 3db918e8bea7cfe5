# The files of each container's image (or of a lone image), and the configuration's own `files`
# section: `files` and `files_section` in the evidence (docs/evidence.md).
package sealkit.baseline.files

import data.sealkit.baseline.lib

# Every list under data.setuid_allowlist: the baseline's own (setuid-allowlist.json) and any a
# --data file adds beside it ({"setuid_allowlist": {"ours": ["usr/bin/x"]}}).
setuid_allowed(path) if {
	some list in data.setuid_allowlist
	some pattern in list
	glob.match(pattern, ["/"], path)
}

# METADATA
# title: setuid and setgid only on allowed programs
# description: >-
#   A setuid or setgid program runs with its owner's rights whoever starts it: each one is a
#   way up to root. Only the programs on the allow-list (data.setuid_allowlist) may have the
#   bits.
# custom:
#   id: SK-FILE-001
#   severity: HIGH
#   aliases: [CIS-DI-0008]
#   remediation: >-
#     Clear the bits (chmod u-s,g-s) in the image, add the program to the allow-list with
#     --data, or record an exception for the path.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some f in c.files.setuid_setgid
	not setuid_allowed(f.path)
	bits := concat(" and ", [b | some b, on in {"setuid": f.setuid, "setgid": f.setgid}; on])
	r := {
		"id": "SK-FILE-001",
		"msg": sprintf("%s is %s (mode %o, owner %d:%d)", [f.path, bits, f.mode, f.uid, f.gid]),
		"component": c.name,
		"path": f.path,
	}
}

# METADATA
# title: No world-writable files or folders
# description: >-
#   Anyone may change a world-writable file, or add and replace files in a world-writable folder
#   without the sticky bit (folders with it, such as /tmp, are not reported).
# custom:
#   id: SK-FILE-002
#   severity: MEDIUM
#   aliases: [CIS-6.1.10]
#   remediation: Remove the write bit for others (chmod o-w), or give a shared folder the sticky bit.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some f in c.files.world_writable
	r := {
		"id": "SK-FILE-002",
		"msg": sprintf("%s is a world-writable %s (mode %o)", [f.path, f.kind, f.mode]),
		"component": c.name,
		"path": f.path,
	}
}

# The last octal digit of a mode string ("0666", "666") is the others' permission.
others_write(mode) if substring(mode, count(mode) - 1, 1) in {"2", "3", "6", "7"}

# A folder with the sticky bit ("1777"): others may add files but not replace anyone's.
sticky_folder(f) if {
	f.directory
	count(f.mode) >= 4
	substring(f.mode, count(f.mode) - 4, 1) in {"1", "3", "5", "7"}
}

# METADATA
# title: No world-writable entry in the configuration's files section
# description: An entry of the configuration's `files` section whose mode lets anyone write it.
# custom:
#   id: SK-FILE-003
#   severity: MEDIUM
#   aliases: []
#   remediation: Give the entry a mode without the others' write bit (e.g. "0644").
deny contains r if {
	some f in input.files_section
	not f.symlink
	others_write(f.mode)
	not sticky_folder(f)
	r := {
		"id": "SK-FILE-003",
		"msg": sprintf("files section entry %s has mode %s: anyone may write it", [f.path, f.mode]),
		"component": "files",
		"path": f.path,
	}
}

# METADATA
# title: No account with an empty password
# description: >-
#   An account whose /etc/shadow (or /etc/passwd) password field is empty logs in without a
#   password.
# custom:
#   id: SK-ACCT-001
#   severity: CRITICAL
#   aliases: [DKL-LI-0001]
#   remediation: Lock the account (`*` or `!` in /etc/shadow) or give it a password hash.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some name in c.files.accounts.empty_passwords
	r := {
		"id": "SK-ACCT-001",
		"msg": sprintf("account %s logs in with an empty password", [name]),
		"component": c.name,
		"path": "etc/shadow",
	}
}

# Where sshd takes a setting from ("etc/ssh/sshd_config:12"), as a path.
sshd_path(setting) := split(setting.at, ":")[0]

sshd_path(setting) := "etc/ssh/sshd_config" if not setting.at

sshd_setting(c, key, value) := setting if {
	setting := c.files.sshd[key]
	setting.value == value
}

# METADATA
# title: sshd does not let root log in with a password
# description: >-
#   `PermitRootLogin yes` lets anyone who learns or guesses root's password in over the
#   network.
# custom:
#   id: SK-SSH-001
#   severity: HIGH
#   aliases: [CIS-5.2.10]
#   remediation: Set `PermitRootLogin no` (or `prohibit-password`) in sshd_config.
deny contains r if {
	some c in input.components
	lib.judged(c)
	s := sshd_setting(c, "permit_root_login", "yes")
	r := {
		"id": "SK-SSH-001",
		"msg": sprintf("sshd lets root log in with a password (PermitRootLogin yes, %s)", [object.get(s, "at", "sshd's default")]),
		"component": c.name,
		"path": sshd_path(s),
	}
}

# METADATA
# title: sshd does not take passwords
# description: >-
#   `PasswordAuthentication yes` lets users log in with a password, which can be guessed or
#   phished; keys cannot.
# custom:
#   id: SK-SSH-002
#   severity: MEDIUM
#   aliases: [CIS-5.2.12]
#   remediation: Set `PasswordAuthentication no` in sshd_config and use keys.
warn contains r if {
	some c in input.components
	lib.judged(c)
	s := sshd_setting(c, "password_authentication", "yes")
	r := {
		"id": "SK-SSH-002",
		"msg": sprintf("sshd takes passwords (PasswordAuthentication yes, %s)", [object.get(s, "at", "sshd's default")]),
		"component": c.name,
		"path": sshd_path(s),
	}
}

# METADATA
# title: sshd refuses empty passwords
# description: '`PermitEmptyPasswords yes` lets an account with an empty password log in over the network.'
# custom:
#   id: SK-SSH-003
#   severity: CRITICAL
#   aliases: [CIS-5.2.11]
#   remediation: Set `PermitEmptyPasswords no` in sshd_config (sshd's default).
deny contains r if {
	some c in input.components
	lib.judged(c)
	s := sshd_setting(c, "permit_empty_passwords", "yes")
	r := {
		"id": "SK-SSH-003",
		"msg": sprintf("sshd lets accounts with an empty password in (PermitEmptyPasswords yes, %s)", [object.get(s, "at", "sshd's default")]),
		"component": c.name,
		"path": sshd_path(s),
	}
}

# METADATA
# title: No ssh host key baked into the image
# description: >-
#   A private host key shipped in the image is shared by every machine booted from it, and by
#   anyone who has the image: they can impersonate all of them.
# custom:
#   id: SK-SSH-004
#   severity: HIGH
#   aliases: [private-key]
#   remediation: Generate host keys on first boot (ssh-keygen -A) and keep them out of the image.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some key in c.files.ssh_host_keys
	r := {
		"id": "SK-SSH-004",
		"msg": sprintf("%s is a private ssh host key shipped in the image", [key]),
		"component": c.name,
		"path": key,
	}
}
