package sealkit.baseline.kernel_config_test

import data.sealkit.baseline.kernel_config

# A small check list standing in for kernel-config.json, one item of each shape.
checks := [
	{"id": "linuxkit-bug", "level": "deny", "option": "BUG", "test": "is", "value": "y", "source": "linuxkit"},
	{"id": "linuxkit-kexec", "level": "deny", "option": "KEXEC", "test": "not-set", "arch": ["x86_64"], "source": "linuxkit"},
	{"id": "linuxkit-pti", "level": "deny", "option": "PAGE_TABLE_ISOLATION", "test": "is", "value": "y", "arch": ["x86_64"], "since": "4.15", "before": "6.9", "source": "linuxkit"},
	{"id": "kspp-sysrq", "level": "warn", "option": "MAGIC_SYSRQ_DEFAULT_ENABLE", "test": "is", "value": "176", "when": [{"option": "MAGIC_SYSRQ", "test": "is", "value": "y"}], "source": "kspp"},
	{"id": "kspp-lsm-yama", "level": "warn", "option": "LSM", "test": "list-contains", "value": "yama", "source": "kspp"},
	{"id": "kspp-panic-timeout", "level": "warn", "option": "PANIC_TIMEOUT", "test": "is", "value": "-1", "source": "kspp"},
]

kernel(options, version, arch) := {"components": [], "files_section": [], "kernel": {
	"image": "linuxkit/kernel:6.12",
	"config": {"source": "kernel-dev.tar", "version": version, "arch": arch, "options": options, "problems": []},
}}

v6_12 := {"major": 6, "minor": 12, "patch": 59}

good := {
	"BUG": "y", "KEXEC": "is not set", "MAGIC_SYSRQ": "y", "MAGIC_SYSRQ_DEFAULT_ENABLE": "0xb0",
	"LSM": "landlock,lockdown,yama", "PANIC_TIMEOUT": "-1",
}

denied(doc) := results if {
	results := kernel_config.deny with input as doc with data.kernel_config.checks as checks
}

warned(doc) := results if {
	results := kernel_config.warn with input as doc with data.kernel_config.checks as checks
}

paths(results, id) := {r.path | some r in results; r.id == id}

test_a_kernel_with_every_item_right_passes if {
	doc := kernel(good, v6_12, "x86_64")
	count(denied(doc)) == 0
	count(warned(doc)) == 0
}

test_linuxkit_items_deny_naming_option_value_and_item if {
	doc := kernel(object.union(good, {"BUG": "is not set", "KEXEC": "y"}), v6_12, "x86_64")
	paths(denied(doc), "SK-KERNEL-002") == {"CONFIG_BUG", "CONFIG_KEXEC"}
	some r in denied(doc)
	r.path == "CONFIG_KEXEC"
	r.msg == "the kernel has CONFIG_KEXEC=y; linuxkit-kexec wants CONFIG_KEXEC not set"
	r.component == "linuxkit/kernel:6.12"
}

test_an_option_missing_from_the_file_is_not_set if {
	doc := kernel(object.remove(good, ["BUG", "KEXEC"]), v6_12, "x86_64")
	some r in denied(doc)
	r.msg == "the kernel has CONFIG_BUG not in its configuration (not set); linuxkit-bug wants CONFIG_BUG=y"
	count(denied(doc)) == 1
}

test_kspp_items_warn if {
	doc := kernel(object.union(good, {"MAGIC_SYSRQ_DEFAULT_ENABLE": "0x1", "LSM": "landlock, lockdown", "PANIC_TIMEOUT": "0"}), v6_12, "x86_64")
	count(denied(doc)) == 0
	paths(warned(doc), "SK-KERNEL-003") == {"CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE", "CONFIG_LSM", "CONFIG_PANIC_TIMEOUT"}
}

test_numbers_compare_as_numbers_and_lists_by_item if {
	every value in ["176", "0xb0", "0XB0"] {
		count(warned(kernel(object.union(good, {"MAGIC_SYSRQ_DEFAULT_ENABLE": value}), v6_12, "x86_64"))) == 0
	}
	every list in ["yama", " yama , landlock", "landlock,yama"] {
		count(warned(kernel(object.union(good, {"LSM": list}), v6_12, "x86_64"))) == 0
	}
	# Not a list item: a substring of one.
	count(warned(kernel(object.union(good, {"LSM": "yamaha"}), v6_12, "x86_64"))) == 1
}

test_conditions_architectures_and_versions_limit_an_item if {
	# No MAGIC_SYSRQ: its default does not matter.
	count(warned(kernel(object.union(good, {"MAGIC_SYSRQ": "is not set", "MAGIC_SYSRQ_DEFAULT_ENABLE": "1"}), v6_12, "x86_64"))) == 0
	# KEXEC is judged on x86_64 only.
	count(denied(kernel(object.union(good, {"KEXEC": "y"}), v6_12, "aarch64"))) == 0
	# PAGE_TABLE_ISOLATION: from 4.15 (inclusive) to 6.9 (exclusive).
	old := {"major": 5, "minor": 10, "patch": 0}
	paths(denied(kernel(good, old, "x86_64")), "SK-KERNEL-002") == {"CONFIG_PAGE_TABLE_ISOLATION"}
	count(denied(kernel(good, {"major": 6, "minor": 9, "patch": 0}, "x86_64"))) == 0
	count(denied(kernel(good, {"major": 4, "minor": 14, "patch": 300}, "x86_64"))) == 0
	count(denied(kernel(good, {"major": 4, "minor": 15, "patch": 0}, "x86_64"))) == 1
}

test_what_cannot_be_told_warns_instead_of_passing if {
	doc := kernel(good, null, null)
	results := warned(doc)
	paths(results, "SK-KERNEL-004") == {"CONFIG_KEXEC", "CONFIG_PAGE_TABLE_ISOLATION"}
	some r in results
	r.path == "CONFIG_KEXEC"
	r.msg == "linuxkit-kexec cannot be checked: the configuration does not say its architecture"
	some s in results
	s.path == "CONFIG_PAGE_TABLE_ISOLATION"
	s.msg == "linuxkit-pti cannot be checked: the configuration does not say its architecture"
	# With the architecture but not the version, the version is what is missing.
	some t in warned(kernel(good, null, "x86_64"))
	t.msg == "linuxkit-pti cannot be checked: the configuration does not say its kernel version"
}

test_a_kernel_without_a_configuration_warns_with_the_reasons if {
	doc := {"components": [], "files_section": [], "kernel": {
		"image": "k",
		"config_unread": [{"source": "kernel-dev.tar", "reason": "not in the image"}, {"source": "kernel", "reason": "no IKCONFIG"}],
	}}
	count(denied(doc)) == 0
	count(warned(doc)) == 1
	some r in warned(doc)
	r.id == "SK-KERNEL-004"
	r.msg == "the kernel's configuration was not found (kernel-dev.tar: not in the image; kernel: no IKCONFIG), so the kernel-config items are not checked"
}

test_no_kernel_no_results if {
	doc := {"components": [], "files_section": []}
	count(denied(doc)) == 0
	count(warned(doc)) == 0
}
