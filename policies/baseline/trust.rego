# Where the component images came from: the signatures found beside each image and, when a
# trust policy (containers-policy.json, docs/trust.md) was given, its verdict
# (`components[].trust`). The gate, build and lock already stop on a refused image before
# reading it; these rules carry the same verdict into `check` and every report.
package sealkit.baseline.trust

# METADATA
# title: Every component image meets the trust policy
# description: >-
#   The trust policy says which keys must have signed the images of each registry, repository
#   or path. An image that does not meet it may not be what its publisher built: its
#   signature is missing, made by another key, names another image, or no longer matches what
#   the lock pinned.
# custom:
#   id: SK-TRUST-001
#   severity: CRITICAL
#   remediation: >-
#     Use the image its publisher signed (check the reference and the digest), have it signed
#     with a key the policy names (sealkit image sign, cosign sign), or correct the policy's
#     scope for it.
deny contains r if {
	some c in input.components
	c.trust.verdict.accepted == false
	unmet := [sprintf("%s: %s", [o.requirement, o.reason]) |
		some o in c.trust.verdict.requirements
		o.met == false
	]
	r := {
		"id": "SK-TRUST-001",
		"msg": sprintf("%s (%s) does not meet the trust policy under %s: %s", [c.name, c.image.reference, c.trust.verdict.scope, concat("; ", unmet)]),
		"component": c.name,
	}
}

# METADATA
# title: Component images are signed
# description: >-
#   Without a signature nothing ties an image to its publisher: whoever can write to the
#   registry, or sits between it and the build, decides what is built. Without a trust policy
#   sealkit cannot check signatures, so an unsigned image is only a warning here.
# custom:
#   id: SK-TRUST-002
#   severity: MEDIUM
#   remediation: >-
#     Sign the image (sealkit image sign, cosign sign) and give a trust policy that requires
#     the signing key (--trust-policy, or NAME.trust.json beside the configuration).
warn contains r if {
	some c in input.components
	not c.trust.verdict
	c.trust.signatures_found == 0
	r := {
		"id": "SK-TRUST-002",
		"msg": sprintf("%s (%s) is not signed, and no trust policy was given", [c.name, c.image.reference]),
		"component": c.name,
	}
}
