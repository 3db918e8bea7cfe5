# Credentials handed to a container (`privileges.env`: environment entries whose name says they
# hold a credential, the value never copied), secrets left in an image's files
# (`components[].secrets`, trivy's rule ids) and secrets the configuration's `files` section
# writes into the image (`files_secrets`). Private ssh host keys are SK-SSH-004's.
package sealkit.baseline.secrets

import data.sealkit.baseline.lib

# METADATA
# title: No credential in a container's environment
# description: >-
#   An environment entry such as DB_PASSWORD=… or API_TOKEN=… written into the configuration
#   or an image's label is readable by anyone who has the image or its configuration, shows in
#   /proc/PID/environ on the host, and cannot be rotated without rebuilding the image.
# custom:
#   id: SK-SECRET-001
#   severity: HIGH
#   aliases: [DS-0031]
#   remediation: >-
#     Remove the value from `env` (YAML or label), rotate it (it has been exposed), and pass it
#     at run time: a file bound from the host or fetched from the metadata service.
deny contains r if {
	some c in input.components
	lib.container(c)
	some e in c.privileges.env
	e.kind == "credential"
	r := {
		"id": "SK-SECRET-001",
		"msg": sprintf("%s is given a credential in its environment (%s=…)", [c.name, e.name]),
		"component": c.name,
	}
}

# Findings trivy rates CRITICAL or HIGH deny; MEDIUM and LOW ones (a JWT, a Slack web hook, a
# high-entropy password assignment) warn: they are more often test data.
denies(finding) if finding.severity in {"CRITICAL", "HIGH"}

# Packages from the distribution are published: a key inside one (libgnutls's test vectors,
# a package's example certificates) is public, not a leak of ours.
distribution := {"deb", "apk", "rpm"}

owners(c, path) := sort([sprintf("%s %s", [p.name, p.version]) |
	some p in c.packages
	p.type in distribution
	path in p.files
])

published(c, path) if count(owners(c, path)) > 0

where(c, f) := sprintf(" (a file of %s, published with it)", [concat(", ", owners(c, f.path))]) if published(c, f.path)

where(c, f) := " (a later layer deletes or replaces the file, but it is still in the image's layers)" if {
	not published(c, f.path)
	f.hidden
}

where(c, f) := "" if {
	not published(c, f.path)
	not f.hidden
}

line(f) := sprintf(":%d", [f.line]) if f.line != null

line(f) := "" if f.line == null

file_result(c, f) := {
	"id": "SK-SECRET-002",
	"msg": sprintf("%s has a %s secret (%s) in %s%s%s: %s", [c.name, lower(f.severity), f.rule, f.path, line(f), where(c, f), f.excerpt]),
	"severity": f.severity,
	"component": c.name,
	"path": f.path,
}

# METADATA
# title: No secret in an image's files
# description: >-
#   A private key, a cloud or VCS token or a password left in a file of an image is readable by
#   anyone who can pull the image, and by every process on every machine booted from it. A file
#   a later layer deletes is still in the layer that added it.
# custom:
#   id: SK-SECRET-002
#   severity: HIGH
#   aliases: [private-key, aws-access-key-id, aws-secret-access-key, github-pat, gitlab-pat, slack-access-token, credential-file, CIS-DI-0010]
#   remediation: >-
#     Remove the file or the value from the image (from the layer that added it, not by deleting
#     it in a later one), rotate the secret (it has been exposed), and give it to the service at
#     run time instead: a file bound from the host, or the metadata service.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some f in c.secrets.findings
	denies(f)
	not published(c, f.path)
	r := file_result(c, f)
}

warn contains r if {
	some c in input.components
	lib.judged(c)
	some f in c.secrets.findings
	not denies(f)
	r := file_result(c, f)
}

warn contains r if {
	some c in input.components
	lib.judged(c)
	some f in c.secrets.findings
	denies(f)
	published(c, f.path)
	r := file_result(c, f)
}

# METADATA
# title: The configuration writes no secret into the image
# description: >-
#   A `files` entry's contents, or the host file its `source` names, end up in the initrd of
#   every machine booted from the image and in the configuration file itself, which is
#   usually kept in version control.
# custom:
#   id: SK-SECRET-003
#   severity: HIGH
#   aliases: [private-key, aws-access-key-id, github-pat, credential-file]
#   remediation: >-
#     Remove the secret from the `files` section, rotate it, and have the machine fetch it at
#     boot (LinuxKit's metadata package reads user data into /run/config).
deny contains r if {
	some f in input.files_secrets.findings
	denies(f)
	r := files_result(f)
}

warn contains r if {
	some f in input.files_secrets.findings
	not denies(f)
	r := files_result(f)
}

files_result(f) := {
	"id": "SK-SECRET-003",
	"msg": sprintf("the files section writes a %s secret (%s) to %s%s: %s", [lower(f.severity), f.rule, f.path, line(f), f.excerpt]),
	"severity": f.severity,
	"component": "files",
	"path": f.path,
}
