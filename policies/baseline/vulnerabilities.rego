# Known vulnerabilities of the components' packages (`vulnerabilities`: each component's matches
# against the advisory database, docs/vulnerabilities.md). What denies is a vulnerability at a
# denied level that its distribution or upstream has already fixed: the fix is an upgrade away.
# The rest warns, so that it is seen without stopping every release on data nobody can act on.
#
# Thresholds come from a --data file, e.g. {"vulnerability_thresholds": {"deny": ["CRITICAL",
# "HIGH", "MEDIUM"], "deny_without_fix": true}}; without one, CRITICAL and HIGH with a fix deny.
package sealkit.baseline.vulnerabilities

deny_levels := {upper(l) | some l in data.vulnerability_thresholds.deny} if data.vulnerability_thresholds.deny

deny_levels := {"CRITICAL", "HIGH"} if not data.vulnerability_thresholds.deny

fix_needed(m) if m.fixed

fix_needed(_) if data.vulnerability_thresholds.deny_without_fix == true

# Matches a VEX statement showed not to apply stay in the evidence, shown as suppressed.
live_matches contains [c, m] if {
	some c in input.vulnerabilities.components
	some m in c.matches
	not m.suppressed_by
}

denies(m) if {
	m.status == "affected"
	m.rating.level in deny_levels
	fix_needed(m)
}

# The policy's five levels: Debian's `unimportant` is information, an unrated match is low.
severity(m) := "INFO" if m.rating.level == "NEGLIGIBLE"

severity(m) := "LOW" if m.rating.level == "UNKNOWN"

severity(m) := m.rating.level if not m.rating.level in {"NEGLIGIBLE", "UNKNOWN"}

rated(m) := sprintf("%s %v", [m.rating.level, m.rating.score]) if m.rating.score

rated(m) := m.rating.level if not m.rating.score

fix(m) := sprintf("fixed in %s", [m.fixed]) if m.fixed

fix(m) := "no fix yet" if not m.fixed

undetermined(m) := "" if m.status == "affected"

undetermined(m) := "; the distribution has not determined whether its release is affected" if m.status == "undetermined"

result(id, c, m) := {
	"id": id,
	"msg": sprintf("%s: %s %s has %s (%s; %s)%s", [c.name, m.package.name, m.package.version, m.id, rated(m), fix(m), undetermined(m)]),
	"severity": severity(m),
	"component": c.name,
	"path": m.package.found_in,
	"vulnerability": m.id,
}

# METADATA
# title: No known vulnerability with a fix available
# description: >-
#   A package of the image is at a version an advisory names as vulnerable, at a level the
#   policy denies (CRITICAL or HIGH unless --data says otherwise), and a fixed version exists:
#   the image ships a flaw its publisher has already mended.
# custom:
#   id: SK-VULN-001
#   severity: HIGH
#   remediation: >-
#     Rebuild the component's image on the fixed version (update its base image or the
#     package), re-lock the configuration, and gate again. If the flaw cannot be reached in
#     this image, say so with a VEX statement (--vex) or an exception naming the vulnerability.
deny contains r if {
	some [c, m] in live_matches
	denies(m)
	r := result("SK-VULN-001", c, m)
}

# METADATA
# title: Known vulnerabilities are shown
# description: >-
#   A package of the image is at a version an advisory names as vulnerable, below the denied
#   level or without a fix yet, or the distribution has not determined whether its release is
#   affected.
# custom:
#   id: SK-VULN-002
#   severity: MEDIUM
#   remediation: >-
#     Track the advisory; upgrade when a fix is published. Raise the thresholds with --data
#     to deny these too.
warn contains r if {
	some [c, m] in live_matches
	not denies(m)
	r := result("SK-VULN-002", c, m)
}

# METADATA
# title: Every package is checked for known vulnerabilities
# description: >-
#   Packages that were not matched against advisories may hold known vulnerabilities nobody
#   sees: no advisory database was available, the image has no os-release to say which
#   distribution's advisories apply, no source covers their kind, or a version did not parse
#   in its ecosystem.
# custom:
#   id: SK-VULN-003
#   severity: MEDIUM
#   remediation: >-
#     Import advisories (sealkit vulndb import, or --vulndb DIR); give --distro for images
#     without os-release; check the versions named.
warn contains r if {
	not input.vulnerabilities
	packages := sum([count(c.packages) | some c in input.components])
	packages > 0
	r := {
		"id": "SK-VULN-003",
		"msg": sprintf("the %d packages of the image were not checked for known vulnerabilities: no advisory database", [packages]),
	}
}

warn contains r if {
	some c in input.vulnerabilities.components
	some kind, n in c.not_covered
	r := {
		"id": "SK-VULN-003",
		"msg": sprintf("%s: %d %s packages were not matched: no advisory source covers them", [c.name, n, kind]),
		"component": c.name,
	}
}

warn contains r if {
	some c in input.vulnerabilities.components
	some n in c.not_evaluated
	r := {
		"id": "SK-VULN-003",
		"msg": sprintf("%s: %s %s was not evaluated against %s: %s", [c.name, n.package.name, n.package.version, concat(", ", n.ids), n.reason]),
		"component": c.name,
		"path": n.package.found_in,
	}
}

# METADATA
# title: The advisory database is recent
# description: >-
#   Advisories are published every day: an old database misses what became known since, and
#   the image looks cleaner than it is.
# custom:
#   id: SK-VULN-004
#   severity: MEDIUM
#   remediation: >-
#     Import a current export (sealkit vulndb import) and gate again.
warn contains r if {
	v := input.vulnerabilities
	v.max_database_age_days != null
	v.database_age_days > v.max_database_age_days
	r := {
		"id": "SK-VULN-004",
		"msg": sprintf("the advisory database %s is %d days old (newest entry %s), more than the %d --max-db-age allows", [v.database.digest, v.database_age_days, v.database.newest, v.max_database_age_days]),
	}
}

warn contains r if {
	v := input.vulnerabilities
	v.max_database_age_days != null
	v.database_age_days == null
	r := {
		"id": "SK-VULN-004",
		"msg": sprintf("the age of the advisory database %s is unknown (its entries carry no dates, or no evaluation date was given with --now or SOURCE_DATE_EPOCH): --max-db-age %d cannot be checked", [v.database.digest, v.max_database_age_days]),
	}
}
