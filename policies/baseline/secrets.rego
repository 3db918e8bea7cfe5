# Credentials handed to a container: `privileges.env` in the evidence lists the environment
# entries whose name says they hold a credential (`*PASSWORD*`, `*TOKEN*`, `*SECRET*`, … with a
# value that is not a placeholder; the value itself is never copied). Secrets inside image files
# (keys, tokens in configuration files) are not yet a fact of the evidence; private ssh host keys
# are (SK-SSH-004).
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
