# The kernel's command line as the configuration writes it (`kernel.cmdline` in the evidence).
# The kernel's build configuration is not yet a fact of the evidence, so LinuxKit's
# kernel-config check list and the KSPP items cannot be judged yet (docs/policies.md).
package sealkit.baseline.kernel

# Command-line parameters that switch a kernel protection off, with the value that does (null:
# the bare word).
weakening := {
	"nokaslr": null,
	"nopti": null,
	"nosmap": null,
	"nosmep": null,
	"noexec": "off",
	"mitigations": "off",
	"init_on_alloc": "0",
	"init_on_free": "0",
	"module.sig_enforce": "0",
	"lockdown": "none",
}

# Each parameter of the command line: {key, value} (value null for a bare word). Quoting is
# not read: LinuxKit's own command lines have none.
parameters contains p if {
	some word in split(input.kernel.cmdline, " ")
	word != ""
	parts := split(word, "=")
	p := {"word": word, "key": parts[0], "value": parameter_value(word, parts)}
}

parameter_value(_, parts) := null if count(parts) == 1

parameter_value(word, parts) := substring(word, count(parts[0]) + 1, -1) if count(parts) > 1

# METADATA
# title: The kernel command line keeps its protections on
# description: >-
#   Parameters such as nokaslr, nopti, mitigations=off or init_on_alloc=0 switch off a
#   protection the kernel would otherwise have.
# custom:
#   id: SK-KERNEL-001
#   severity: MEDIUM
#   aliases: []
#   remediation: Remove the parameter from the kernel's `cmdline`.
warn contains r if {
	some p in parameters
	weakening[p.key] == p.value
	r := {
		"id": "SK-KERNEL-001",
		"msg": sprintf("the kernel command line has %s, which switches a protection off", [p.word]),
		"component": input.kernel.image,
		"path": "cmdline",
	}
}
