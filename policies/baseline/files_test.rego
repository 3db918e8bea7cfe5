package sealkit.baseline.files_test

import data.sealkit.baseline.files
import data.sealkit.baseline.fixtures_test as f

found(level, doc) := ids if {
	ids := f.ids(files[level]) with input as doc
}

with_files(changes) := f.evidence([f.service({"files": changes})])

setuid_ping := {"setuid_setgid": [{"path": "usr/bin/ping", "mode": 2541, "uid": 0, "gid": 0, "setuid": true, "setgid": false}]}

test_setuid_files_are_denied if {
	"SK-FILE-001" in found("deny", with_files(setuid_ping))
}

test_setuid_files_on_the_allow_list_pass if {
	ids := found("deny", with_files(setuid_ping)) with data.setuid_allowlist as {"baseline": [], "ours": ["usr/bin/p*"]}
	not "SK-FILE-001" in ids
}

test_world_writable_files_are_denied if {
	"SK-FILE-002" in found("deny", with_files({"world_writable": [{"path": "srv/drop", "kind": "dir", "mode": 511}]}))
}

test_no_world_writable_file_passes if {
	count(found("deny", with_files({}))) == 0
}

section(entries) := {"components": [], "files_section": entries}

test_world_writable_files_section_entries_are_denied if {
	every entry in [{"path": "etc/x", "mode": "0666"}, {"path": "etc/y", "mode": "777"}, {"path": "d", "directory": true, "mode": "0777"}] {
		"SK-FILE-003" in found("deny", section([entry]))
	}
}

test_private_sticky_and_symlink_entries_pass if {
	count(found("deny", section([
		{"path": "etc/x", "mode": "0644"},
		{"path": "tmp", "directory": true, "mode": "1777"},
		{"path": "etc/l", "symlink": "x", "mode": "0777"},
		{"path": "etc/z", "contents": "no mode"},
	]))) == 0
}

test_empty_passwords_are_denied if {
	"SK-ACCT-001" in found("deny", with_files({"accounts": {"empty_passwords": ["root"]}}))
}

sshd(root_login, passwords, empty) := with_files({"sshd": {
	"permit_root_login": {"value": root_login, "at": "etc/ssh/sshd_config:3"},
	"password_authentication": {"value": passwords},
	"permit_empty_passwords": {"value": empty},
	"files": ["etc/ssh/sshd_config"],
	"conditional": [],
}})

test_sshd_root_and_empty_password_logins_are_denied if {
	found("deny", sshd("yes", "no", "yes")) == {"SK-SSH-001", "SK-SSH-003"}
}

test_sshd_password_logins_warn if {
	found("warn", sshd("no", "yes", "no")) == {"SK-SSH-002"}
}

test_a_hardened_sshd_passes if {
	count(found("deny", sshd("prohibit-password", "no", "no"))) == 0
	count(found("warn", sshd("prohibit-password", "no", "no"))) == 0
}

test_the_sshd_setting_names_its_file if {
	some r in files.deny with input as sshd("yes", "no", "no")
	r.path == "etc/ssh/sshd_config"
}

test_baked_host_keys_are_denied if {
	"SK-SSH-004" in found("deny", with_files({"ssh_host_keys": ["etc/ssh/ssh_host_ed25519_key"]}))
}
