package sealkit.baseline.vulnerabilities_test

import data.sealkit.baseline.fixtures_test as f
import data.sealkit.baseline.vulnerabilities

openssh := {"type": "deb", "name": "openssh-server", "version": "1:9.2p1-2+deb12u2", "found_in": "var/lib/dpkg/status"}

# CVE-2024-6387 as matched against bookworm's openssh before DSA-5724-1.
regresshion := {
	"id": "CVE-2024-6387", "package": openssh, "status": "affected", "fixed": "1:9.2p1-2+deb12u3",
	"rating": {"level": "HIGH", "basis": "cvss", "score": 8.1},
}

scanned(matches, extra) := object.union(f.evidence([f.service({"name": "sshd", "packages": [openssh]})]), {"vulnerabilities": object.union(
	{
		"database": {"digest": "sha256:db", "newest": "2024-07-01T00:00:00Z", "advisories": 3},
		"components": [{"name": "sshd", "packages": 1, "matches": matches, "not_evaluated": []}],
		"database_age_days": 10, "max_database_age_days": null,
	},
	extra,
)})

results(doc) := {"deny": f.ids(denied), "warn": f.ids(warned)} if {
	denied := vulnerabilities.deny with input as doc
	warned := vulnerabilities.warn with input as doc
}

test_a_high_vulnerability_with_a_fix_is_denied_naming_it if {
	doc := scanned([regresshion], {})
	results(doc) == {"deny": {"SK-VULN-001"}, "warn": set()}
	some d in vulnerabilities.deny with input as doc
	d.vulnerability == "CVE-2024-6387"
	d.component == "sshd"
	d.severity == "HIGH"
	d.msg == "sshd: openssh-server 1:9.2p1-2+deb12u2 has CVE-2024-6387 (HIGH 8.1; fixed in 1:9.2p1-2+deb12u3)"
}

test_without_a_fix_or_below_the_level_it_warns if {
	no_fix := object.remove(regresshion, ["fixed"])
	results(scanned([no_fix], {})) == {"deny": set(), "warn": {"SK-VULN-002"}}
	medium := object.union(regresshion, {"rating": {"level": "MEDIUM", "basis": "label"}})
	results(scanned([medium], {})) == {"deny": set(), "warn": {"SK-VULN-002"}}
	undetermined := object.union(regresshion, {"status": "undetermined"})
	results(scanned([undetermined], {})) == {"deny": set(), "warn": {"SK-VULN-002"}}
}

test_thresholds_come_from_data if {
	medium := object.union(regresshion, {"rating": {"level": "MEDIUM", "basis": "label"}})
	denied := vulnerabilities.deny with input as scanned([medium], {})
		with data.vulnerability_thresholds as {"deny": ["critical", "high", "medium"]}
	f.ids(denied) == {"SK-VULN-001"}
	no_fix := object.remove(regresshion, ["fixed"])
	denied_without_fix := vulnerabilities.deny with input as scanned([no_fix], {})
		with data.vulnerability_thresholds as {"deny": ["HIGH"], "deny_without_fix": true}
	f.ids(denied_without_fix) == {"SK-VULN-001"}
	nothing := vulnerabilities.deny with input as scanned([regresshion], {})
		with data.vulnerability_thresholds as {"deny": []}
	nothing == set()
}

test_a_suppressed_match_neither_denies_nor_warns if {
	suppressed := object.union(regresshion, {"suppressed_by": {"status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}})
	results(scanned([suppressed], {})) == {"deny": set(), "warn": set()}
}

test_without_a_database_the_packages_are_said_unchecked if {
	doc := f.evidence([f.service({"name": "sshd", "packages": [openssh]})])
	results(doc) == {"deny": set(), "warn": {"SK-VULN-003"}}
	some w in vulnerabilities.warn with input as doc
	contains(w.msg, "the 1 packages of the image were not checked")
	results(f.evidence([f.service({})])) == {"deny": set(), "warn": set()}
}

test_uncovered_and_unevaluated_packages_warn if {
	uncovered := scanned([], {"components": [{"name": "sshd", "packages": 1, "matches": [], "not_evaluated": [], "not_covered": {"deb (no os-release)": 43}}]})
	results(uncovered) == {"deny": set(), "warn": {"SK-VULN-003"}}
	unevaluated := scanned([], {"components": [{"name": "sshd", "packages": 1, "matches": [], "not_evaluated": [{"package": openssh, "ids": ["GHSA-x"], "reason": "GIT ranges are not evaluated"}]}]})
	results(unevaluated) == {"deny": set(), "warn": {"SK-VULN-003"}}
}

test_an_old_database_warns_when_a_maximum_is_given if {
	results(scanned([], {"max_database_age_days": 7})) == {"deny": set(), "warn": {"SK-VULN-004"}}
	results(scanned([], {"max_database_age_days": 30})) == {"deny": set(), "warn": set()}
	results(scanned([], {"max_database_age_days": 7, "database_age_days": null})) == {"deny": set(), "warn": {"SK-VULN-004"}}
}
