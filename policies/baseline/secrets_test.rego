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
