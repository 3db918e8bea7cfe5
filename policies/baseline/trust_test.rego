package sealkit.baseline.trust_test

import data.sealkit.baseline.fixtures_test as f
import data.sealkit.baseline.trust

with_trust(finding) := f.evidence([f.service({"image": {"reference": "example.com/app:1"}, "trust": finding})])

results(doc) := {"deny": f.ids(denied), "warn": f.ids(warned)} if {
	denied := trust.deny with input as doc
	warned := trust.warn with input as doc
}

verdict(accepted, requirements) := {"scope": "transports.docker.\"example.com\"", "accepted": accepted, "requirements": requirements}

test_a_refused_image_is_denied_naming_the_scope_and_what_was_missing if {
	doc := with_trust({"signed_digest": "sha256:aa", "signatures_found": 1, "verdict": verdict(false, [
		{"requirement": "sigstoreSigned", "met": false, "reason": "none of its 1 signatures verified"},
	])})
	results(doc) == {"deny": {"SK-TRUST-001"}, "warn": set()}
	denied := trust.deny with input as doc
	some d in denied
	contains(d.msg, "transports.docker.\"example.com\"")
	contains(d.msg, "sigstoreSigned: none of its 1 signatures verified")
}

test_an_accepted_image_passes if {
	doc := with_trust({"signed_digest": "sha256:aa", "signatures_found": 1, "verdict": verdict(true, [
		{"requirement": "sigstoreSigned", "met": true, "reason": "1 of 1 signatures verified"},
	])})
	results(doc) == {"deny": set(), "warn": set()}
}

test_an_unsigned_image_without_a_policy_warns if {
	results(with_trust({"signed_digest": "sha256:aa", "signatures_found": 0})) == {"deny": set(), "warn": {"SK-TRUST-002"}}
}

test_a_signed_image_without_a_policy_does_not_warn if {
	results(with_trust({"signed_digest": "sha256:aa", "signatures_found": 2})) == {"deny": set(), "warn": set()}
}

test_a_component_without_trust_facts_is_not_judged if {
	results(f.evidence([f.service({})])) == {"deny": set(), "warn": set()}
}
