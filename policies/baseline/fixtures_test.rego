# Test fixtures shared by the baseline's unit tests: a component that every rule passes, which
# each test changes in one place.
package sealkit.baseline.fixtures_test

privileges := {
	"capabilities": [],
	"all_capabilities": false,
	"root_equivalent": [],
	"host_namespaces": [],
	"binds": [],
	"no_new_privileges": true,
	"env": [],
}

files := {
	"setuid_setgid": [],
	"world_writable": [],
	"accounts": {"empty_passwords": []},
	"ssh_host_keys": [],
}

component(role, changes) := object.union(
	{
		"role": role, "name": "svc", "privileges": privileges, "files": files,
		"binaries": [], "packages": [],
	},
	changes,
)

service(changes) := component("service", changes)

evidence(components) := {"components": components, "files_section": []}

# A hardened, dynamically linked executable: every check passes.
good_hardening := {
	"pie": {"result": "pass", "evidence": "ET_DYN"},
	"relro": "full",
	"relro_check": {"result": "pass", "evidence": "PT_GNU_RELRO"},
	"bind_now": {"result": "pass", "evidence": "DF_BIND_NOW"},
	"nx": {"result": "pass", "evidence": "PT_GNU_STACK RW"},
	"canary": {"result": "pass", "evidence": "__stack_chk_fail"},
	"text_relocations": {"result": "pass", "evidence": "no DT_TEXTREL"},
	"writable_executable_segments": {"result": "pass", "evidence": "none"},
}

elf(path, changes) := {
	"path": path,
	"elf": object.union({"status": "elf", "rpath": [], "runpath": [], "hardening": good_hardening}, changes),
}

ids(results) := {r.id | some r in results}
