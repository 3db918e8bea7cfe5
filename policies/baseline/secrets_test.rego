package sealkit.baseline.secrets_test

import data.sealkit.baseline.fixtures_test as f
import data.sealkit.baseline.secrets

denied(env) := ids if {
	ids := f.ids(secrets.deny) with input as f.evidence([f.service({"privileges": object.union(f.privileges, {"env": env})})])
}

test_a_credential_in_the_environment_is_denied if {
	denied([{"name": "DB_PASSWORD", "kind": "credential"}]) == {"SK-SECRET-001"}
}

test_a_security_switch_is_not_a_credential if {
	count(denied([{"name": "INSECURE", "kind": "security-off", "value": "true"}])) == 0
}

test_no_environment_finding_passes if {
	count(denied([])) == 0
}

finding(path, rule, severity, changes) := object.union(
	{"path": path, "line": 3, "rule": rule, "category": "x", "severity": severity, "excerpt": "key = *****"},
	changes,
)

with_findings(findings, packages) := f.evidence([f.service({"name": "web", "secrets": {"findings": findings}, "packages": packages})])

results(doc) := {"deny": denied, "warn": warned} if {
	denied := secrets.deny with input as doc
	warned := secrets.warn with input as doc
}

test_a_secret_in_an_image_file_is_denied_with_where_and_why if {
	r := results(with_findings([finding("etc/app/key.pem", "private-key", "HIGH", {"excerpt": "-----BEGIN PRIVATE KEY----- *****"})], []))
	count(r.warn) == 0
	some d in r.deny
	d.id == "SK-SECRET-002"
	d.severity == "HIGH"
	d.path == "etc/app/key.pem"
	d.component == "web"
	d.msg == "web has a high secret (private-key) in etc/app/key.pem:3: -----BEGIN PRIVATE KEY----- *****"
}

test_medium_findings_warn if {
	r := results(with_findings([finding("app/config.js", "jwt-token", "MEDIUM", {})], []))
	count(r.deny) == 0
	f.ids(r.warn) == {"SK-SECRET-002"}
}

test_a_key_published_in_a_distribution_package_warns if {
	packages := [{"type": "deb", "name": "libgnutls30", "version": "3.7.9-2", "files": ["usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3"]}]
	r := results(with_findings([finding("usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3", "private-key", "HIGH", {"line": null})], packages))
	count(r.deny) == 0
	some w in r.warn
	w.msg == "web has a high secret (private-key) in usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3 (a file of libgnutls30 3.7.9-2, published with it): key = *****"
}

test_a_key_in_a_language_package_still_denies if {
	packages := [{"type": "npm", "name": "left-pad", "version": "1.0.0", "files": ["app/node_modules/left-pad/.env"]}]
	r := results(with_findings([finding("app/node_modules/left-pad/.env", "credential-file", "HIGH", {"line": null})], packages))
	f.ids(r.deny) == {"SK-SECRET-002"}
}

test_a_hidden_secret_is_still_denied if {
	r := results(with_findings([finding("root/.aws/credentials", "aws-access-key-id", "CRITICAL", {"hidden": true})], []))
	some d in r.deny
	contains(d.msg, "a later layer deletes or replaces the file, but it is still in the image's layers")
}

test_secrets_in_kernel_and_init_images_are_not_judged if {
	doc := f.evidence([f.component("init", {"secrets": {"findings": [finding("etc/key", "private-key", "HIGH", {})]}})])
	results := secrets.deny with input as doc
	count(results) == 0
}

test_the_files_section_writing_a_secret_is_denied if {
	doc := {"components": [], "files_section": [], "files_secrets": {"findings": [
		finding("etc/app/token", "github-pat", "CRITICAL", {"line": 1, "excerpt": "*****"}),
		finding("etc/app/jwt", "jwt-token", "MEDIUM", {}),
	]}}
	r := results(doc)
	some d in r.deny
	d.msg == "the files section writes a critical secret (github-pat) to etc/app/token:1: *****"
	d.component == "files"
	count(r.deny) == 1
	f.ids(r.warn) == {"SK-SECRET-003"}
}

test_no_secrets_no_results if {
	r := results(with_findings([], []))
	count(r.deny) == 0
	count(r.warn) == 0
}
