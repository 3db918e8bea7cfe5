package sealkit.baseline.privileges_test

import data.sealkit.baseline.fixtures_test as f
import data.sealkit.baseline.privileges

denied(components) := ids if {
	ids := f.ids(privileges.deny) with input as f.evidence(components)
}

with_privileges(role, changes) := f.component(role, {"privileges": changes})

test_every_capability_is_denied if {
	"SK-PRIV-001" in denied([f.service({"privileges": {"all_capabilities": true, "capabilities": ["CAP_SYS_ADMIN"]}})])
}

test_a_short_list_of_capabilities_passes if {
	ids := denied([f.service({"privileges": {"capabilities": ["CAP_NET_BIND_SERVICE"]}})])
	not "SK-PRIV-001" in ids
	not "SK-PRIV-002" in ids
}

test_a_root_equivalent_capability_is_denied if {
	"SK-PRIV-002" in denied([with_privileges("onboot", {"root_equivalent": [{"name": "CAP_SYS_ADMIN", "why": "mount"}]})])
}

test_every_capability_is_one_denial_not_twenty if {
	ids := denied([f.service({"privileges": {"all_capabilities": true, "root_equivalent": [{"name": "CAP_SYS_ADMIN", "why": "mount"}]}})])
	"SK-PRIV-001" in ids
	not "SK-PRIV-002" in ids
}

test_host_pid_net_and_ipc_are_denied_for_services if {
	denied([with_privileges("service", {"host_namespaces": ["pid", "net", "ipc"]})]) == {"SK-PRIV-003", "SK-PRIV-004", "SK-PRIV-005"}
}

test_host_namespaces_of_onboot_containers_and_uts_pass if {
	count(denied([
		with_privileges("onboot", {"host_namespaces": ["pid", "net"]}),
		with_privileges("service", {"host_namespaces": ["uts"]}),
	])) == 0
}

test_writable_binds_of_host_power_are_denied if {
	every source in ["/", "/etc/ssh", "/dev", "/sys/fs/cgroup", "/run", "/var/run/docker.sock", "/srv/containerd.sock", "/etc/"] {
		"SK-PRIV-006" in denied([with_privileges("service", {"binds": [{"source": source, "destination": "/x", "writable": true}]})])
	}
}

test_read_only_binds_and_other_folders_pass if {
	count(denied([with_privileges("service", {"binds": [
		{"source": "/etc", "destination": "/hostetc", "writable": false},
		{"source": "/var/tmp", "destination": "/var/tmp", "writable": true},
		{"source": "/devices", "destination": "/d", "writable": true},
	]})])) == 0
}

test_services_need_no_new_privileges if {
	"SK-PRIV-007" in denied([with_privileges("service", {"no_new_privileges": false})])
}

test_onboot_containers_need_not_set_no_new_privileges if {
	count(denied([with_privileges("onboot", {"no_new_privileges": false})])) == 0
}

test_a_security_switch_is_denied if {
	"SK-PRIV-008" in denied([with_privileges("service", {"env": [{"name": "INSECURE", "kind": "security-off", "value": "true"}]})])
}

test_a_credential_in_env_is_not_this_rule if {
	count(denied([with_privileges("service", {"env": [{"name": "DB_PASSWORD", "kind": "credential"}]})])) == 0
}

test_kernel_and_init_images_have_no_privileges_to_judge if {
	count(denied([{"role": "kernel", "name": "k", "binaries": [], "files": f.files}])) == 0
}
