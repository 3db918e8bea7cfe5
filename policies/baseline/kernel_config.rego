# The kernel's build configuration (`kernel.config` in the evidence) against the items of
# `data.kernel_config` (kernel-config.json): LinuxKit's own kernel-config test, whose items
# deny, and the further Kernel Self Protection Project recommendations, which warn. The file's
# `semantics` block says what each field of an item means; this file applies it.
package sealkit.baseline.kernel_config

config := input.kernel.config

# An option that is `# CONFIG_X is not set`, `=n`, or not in the file at all (kconfig leaves out
# options whose dependencies are unmet).
not_set(option) if not config.options[option]

not_set(option) if config.options[option] in {"is not set", "n"}

# Whether `test` holds for `option`, as the semantics say.
holds(option, "not-set", _) if not_set(option)

holds(option, "is", value) if config.options[option] == value

# As numbers when both are integers, so 176 matches 0xb0.
holds(option, "is", value) if integer(config.options[option]) == integer(value)

holds(option, "list-contains", value) if {
	some item in split(config.options[option], ",")
	trim_space(item) == value
}

# A decimal or 0x-prefixed hexadecimal integer, optionally negative; undefined otherwise.
integer(text) := 0 - magnitude(trim_prefix(text, "-")) if startswith(text, "-")

integer(text) := magnitude(text) if not startswith(text, "-")

magnitude(text) := n if {
	regex.match(`^[0-9]+$`, text)
	n := to_number(text)
}

magnitude(text) := n if {
	regex.match(`^0[xX][0-9a-fA-F]+$`, text)
	digits := split(lower(substring(text, 2, -1)), "")
	n := sum([v |
		some i, d in digits
		v := indexof("0123456789abcdef", d) * power16((count(digits) - 1) - i)
	])
}

power16(0) := 1

power16(e) := product([16 | some _ in numbers.range(1, e)]) if e > 0

# The evidence writes null for what the configuration's header does not say.
no_arch if object.get(config, "arch", null) == null

# The configuration's version as [major, minor, patch], and an item's `since`/`before` alike.
version := [v.major, v.minor, v.patch] if {
	v := config.version
	v != null
}

gate(text) := array.slice([to_number(p) | some p in array.concat(split(text, "."), ["0", "0"])], 0, 3)

# Why an item cannot be told to apply: its architecture or version range needs what the
# configuration does not say.
undecidable(item) := "the configuration does not say its architecture" if {
	config
	count(object.get(item, "arch", [])) > 0
	no_arch
}

undecidable(item) := "the configuration does not say its kernel version" if {
	config
	not undecidable_arch(item)
	any_version_gate(item)
	not version
}

undecidable_arch(item) if {
	count(object.get(item, "arch", [])) > 0
	no_arch
}

any_version_gate(item) if item.since

any_version_gate(item) if item.before

# The item covers this kernel: there is a configuration, and the item's architecture, version
# range and conditions all hold for it.
applies(item) if {
	config
	not undecidable(item)
	arch_covers(item)
	not gate(object.get(item, "since", "0")) > version
	not before_passed(item)
	every c in object.get(item, "when", []) {
		holds(c.option, c.test, object.get(c, "value", null))
	}
}

arch_covers(item) if count(object.get(item, "arch", [])) == 0

arch_covers(item) if config.arch in item.arch

before_passed(item) if version >= gate(item.before)

failed(item) if {
	applies(item)
	not holds(item.option, item.test, object.get(item, "value", null))
}

wanted(item) := sprintf("CONFIG_%s not set", [item.option]) if item.test == "not-set"

wanted(item) := sprintf("CONFIG_%s=%s", [item.option, item.value]) if item.test == "is"

wanted(item) := sprintf("CONFIG_%s to list %s", [item.option, item.value]) if item.test == "list-contains"

state(item) := sprintf("CONFIG_%s not in its configuration (not set)", [item.option]) if not config.options[item.option]

state(item) := sprintf("CONFIG_%s not set", [item.option]) if config.options[item.option] in {"is not set", "n"}

state(item) := sprintf("CONFIG_%s=%s", [item.option, v]) if {
	v := config.options[item.option]
	not v in {"is not set", "n"}
}

result(item, id) := {
	"id": id,
	"msg": sprintf("the kernel has %s; %s wants %s", [state(item), item.id, wanted(item)]),
	"component": input.kernel.image,
	"path": sprintf("CONFIG_%s", [item.option]),
}

# METADATA
# title: The kernel passes LinuxKit's kernel-config check list
# description: >-
#   LinuxKit tests every kernel it ships against a list of options (test/pkg/kernel-config):
#   bug and debug checks on, /dev/mem restricted, seccomp and the LSMs built in, hardened
#   usercopy, freelist randomisation, stack protector, read-only kernel text and module text,
#   KASLR, and no kexec, legacy vsyscalls or x32 ABI. A kernel that fails one is weaker than
#   any kernel LinuxKit itself would boot.
# related_resources:
#   - ref: https://github.com/linuxkit/linuxkit/blob/master/test/pkg/kernel-config/check-kernel-config.sh
# custom:
#   id: SK-KERNEL-002
#   severity: HIGH
#   aliases: [linuxkit-kernel-config]
#   remediation: >-
#     Build the kernel with the option as the message says (LinuxKit's kernel configurations
#     in linuxkit/kernel have every item right), or use one of LinuxKit's kernels.
deny contains r if {
	some item in data.kernel_config.checks
	item.level == "deny"
	failed(item)
	r := result(item, "SK-KERNEL-002")
}

# METADATA
# title: The kernel follows the KSPP recommendations
# description: >-
#   The Kernel Self Protection Project recommends further options that close whole classes
#   of kernel exploits: memory initialised on allocation, module signing enforced, lockdown,
#   CFI, no /dev/kmem or /proc/kcore, stricter sysctl defaults.
# related_resources:
#   - ref: https://kspp.github.io/Recommended_Settings
# custom:
#   id: SK-KERNEL-003
#   severity: MEDIUM
#   aliases: [kspp]
#   remediation: >-
#     Set the option as the message says when the kernel is next configured; each item's
#     reference in kernel-config.json says why.
warn contains r if {
	some item in data.kernel_config.checks
	item.level == "warn"
	failed(item)
	r := result(item, "SK-KERNEL-003")
}

# METADATA
# title: The kernel's configuration can be judged
# description: >-
#   Without the kernel's .config (kernel-dev.tar, a config file, or IKCONFIG in the kernel),
#   or without its version or architecture, the kernel-config items cannot be checked: the
#   kernel may be weaker than any rule can tell.
# custom:
#   id: SK-KERNEL-004
#   severity: MEDIUM
#   aliases: []
#   remediation: >-
#     Ship the configuration with the kernel (LinuxKit's kernel images carry kernel-dev.tar;
#     or build with CONFIG_IKCONFIG), keeping its "Linux/ARCH VERSION Kernel Configuration"
#     header line.
warn contains r if {
	input.kernel
	not input.kernel.config
	reasons := [sprintf("%s: %s", [u.source, u.reason]) | some u in object.get(input.kernel, "config_unread", [])]
	r := {
		"id": "SK-KERNEL-004",
		"msg": sprintf("the kernel's configuration was not found (%s), so the kernel-config items are not checked", [concat("; ", reasons)]),
		"component": input.kernel.image,
		"path": "config",
	}
}

warn contains r if {
	some item in data.kernel_config.checks
	reason := undecidable(item)
	r := {
		"id": "SK-KERNEL-004",
		"msg": sprintf("%s cannot be checked: %s", [item.id, reason]),
		"component": input.kernel.image,
		"path": sprintf("CONFIG_%s", [item.option]),
	}
}
