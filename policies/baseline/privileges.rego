# What each container may do at run time, from its effective configuration (YAML > image label >
# image config > defaults): `privileges` in the evidence (docs/evidence.md).
package sealkit.baseline.privileges

import data.sealkit.baseline.lib

# METADATA
# title: No container holds every capability
# description: >-
#   A container with every capability (`capabilities: [all]`, or a list naming each) is root on
#   the host: it can load kernel modules, mount the host's disks and trace any process. LinuxKit's
#   getty and sshd packages ask for it in their labels.
# custom:
#   id: SK-PRIV-001
#   severity: CRITICAL
#   aliases: [KSV-0017, AVD-KSV-0017, KSV017]
#   remediation: >-
#     List only the capabilities the program needs in the container's `capabilities`, or record
#     an exception with the reason it needs them all.
deny contains r if {
	some c in input.components
	lib.container(c)
	c.privileges.all_capabilities
	r := {
		"id": "SK-PRIV-001",
		"msg": sprintf("%s holds every capability (%d of them): it is as powerful as root on the host", [c.name, count(c.privileges.capabilities)]),
		"component": c.name,
	}
}

# METADATA
# title: No container holds a root-equivalent capability
# description: >-
#   Some capabilities reach full root or out of the container on their own (CAP_SYS_ADMIN,
#   CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, CAP_SETUID and the others the evidence
#   lists under `root_equivalent`, each with why).
# custom:
#   id: SK-PRIV-002
#   severity: HIGH
#   aliases: [KSV-0005, KSV-0120, KSV-0022, AVD-KSV-0005, AVD-KSV-0022]
#   remediation: >-
#     Drop the capability from the container's `capabilities` (check the image's label too), or
#     record an exception saying why the program needs it.
deny contains r if {
	some c in input.components
	lib.container(c)
	not c.privileges.all_capabilities
	some cap in c.privileges.root_equivalent
	r := {
		"id": "SK-PRIV-002",
		"msg": sprintf("%s holds %s, which %s", [c.name, cap.name, cap.why]),
		"component": c.name,
	}
}

host_namespace_rules := {
	"pid": {"id": "SK-PRIV-003", "what": "sees and signals every process of the host"},
	"net": {"id": "SK-PRIV-004", "what": "uses the host's network stack: its interfaces, routes and ports"},
	"ipc": {"id": "SK-PRIV-005", "what": "shares the host's System V IPC and POSIX message queues"},
}

# METADATA
# title: No service shares the host's pid namespace
# description: >-
#   A service in the host's pid namespace (`pid: host`) sees every process of the host and,
#   with the matching capabilities, can signal or trace them.
# custom:
#   id: SK-PRIV-003
#   severity: HIGH
#   aliases: [KSV-0010, AVD-KSV-0010, KSV010]
#   remediation: "Remove `pid: host` (YAML or label), or record an exception with the reason."
deny contains r if {
	some r in host_namespace("pid")
}

# METADATA
# title: No service shares the host's network namespace
# description: >-
#   A service in the host's network namespace (`net: host`) can bind any port of the host,
#   sniff its traffic with CAP_NET_RAW and reconfigure it with CAP_NET_ADMIN.
# custom:
#   id: SK-PRIV-004
#   severity: HIGH
#   aliases: [KSV-0009, AVD-KSV-0009, KSV009]
#   remediation: >-
#     Give the service its own network namespace, or record an exception (a service that
#     manages the host's network, or listens on it as sshd does, needs one).
deny contains r if {
	some r in host_namespace("net")
}

# METADATA
# title: No service shares the host's IPC namespace
# description: "A service in the host's IPC namespace (`ipc: host`) shares the host's shared memory and message queues."
# custom:
#   id: SK-PRIV-005
#   severity: HIGH
#   aliases: [KSV-0008, AVD-KSV-0008, KSV008]
#   remediation: "Remove `ipc: host`, or record an exception with the reason."
deny contains r if {
	some r in host_namespace("ipc")
}

host_namespace(ns) := {r |
	some c in input.components
	lib.service(c)
	ns in c.privileges.host_namespaces
	rule := host_namespace_rules[ns]
	r := {
		"id": rule.id,
		"msg": sprintf("%s runs in the host's %s namespace: it %s", [c.name, ns, rule.what]),
		"component": c.name,
	}
}

# Host paths a container must never be able to write: the whole root, the configuration, the
# devices, the kernel's view, and the runtimes' sockets.
never_writable := {"/etc", "/dev", "/sys", "/run", "/var/run"}

forbidden_rw(source) if lib.clean(source) == "/"

forbidden_rw(source) if {
	some dir in never_writable
	lib.under(lib.clean(source), dir)
}

forbidden_rw(source) if endswith(source, ".sock")

# METADATA
# title: No container binds the host's root, /etc, /dev, /sys or a runtime socket read-write
# description: >-
#   A writable bind of the host's root, /etc, /dev, /sys, /run or /var/run (or of anything below
#   them, or of a `.sock` file) lets the container rewrite the host's configuration, write to its
#   disks, reconfigure the kernel or drive the container runtime: it escapes.
# custom:
#   id: SK-PRIV-006
#   severity: CRITICAL
#   aliases: [KSV-0121, KSV-0006, DKL-DI-0002, AVD-KSV-0121, AVD-KSV-0006]
#   remediation: Bind the path read-only (`:ro`), bind only the file the program needs, or record an exception.
deny contains r if {
	some c in input.components
	lib.container(c)
	some b in c.privileges.binds
	b.writable
	forbidden_rw(b.source)
	r := {
		"id": "SK-PRIV-006",
		"msg": sprintf("%s binds the host's %s read-write at %s", [c.name, b.source, b.destination]),
		"component": c.name,
		"path": b.destination,
	}
}

# METADATA
# title: Services run with noNewPrivileges
# description: >-
#   Without noNewPrivileges a service's processes can gain privileges through setuid programs
#   and file capabilities.
# custom:
#   id: SK-PRIV-007
#   severity: MEDIUM
#   aliases: [KSV-0001, AVD-KSV-0001, KSV001]
#   remediation: "Set `noNewPrivileges: true` for the service (YAML or label)."
deny contains r if {
	some c in input.components
	lib.service(c)
	not c.privileges.no_new_privileges
	r := {
		"id": "SK-PRIV-007",
		"msg": sprintf("%s may gain privileges (noNewPrivileges is not set)", [c.name]),
		"component": c.name,
	}
}

# METADATA
# title: No environment switch turns security off
# description: >-
#   Environment entries such as INSECURE=true, GIT_SSL_NO_VERIFY=1 or
#   NODE_TLS_REJECT_UNAUTHORIZED=0 switch a program's own protection off (LinuxKit's getty
#   label sets INSECURE=true: a root shell on the console without a password).
# custom:
#   id: SK-PRIV-008
#   severity: HIGH
#   aliases: []
#   remediation: Remove the entry from the container's `env` (YAML or label), or record an exception.
deny contains r if {
	some c in input.components
	lib.container(c)
	some e in c.privileges.env
	e.kind == "security-off"
	r := {
		"id": "SK-PRIV-008",
		"msg": sprintf("%s runs with %s=%s, which switches a protection off", [c.name, e.name, object.get(e, "value", "")]),
		"component": c.name,
	}
}
