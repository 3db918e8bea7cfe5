package sealkit.baseline.binaries_test

import data.sealkit.baseline.binaries
import data.sealkit.baseline.fixtures_test as f

found(level, binaries_of_service) := ids if {
	ids := f.ids(binaries[level]) with input as f.evidence([f.service({"binaries": binaries_of_service})])
}

bad(check) := f.elf("usr/bin/x", {"hardening": {check: {"result": "fail", "evidence": "e"}}})

test_a_hardened_binary_passes if {
	count(found("deny", [f.elf("usr/bin/x", {})])) == 0
	count(found("warn", [f.elf("usr/bin/x", {})])) == 1 # SK-SBOM-001 only: no package lists it
}

test_position_dependent_executables_are_denied if {
	"SK-ELF-001" in found("deny", [bad("pie")])
}

test_shared_objects_need_not_be_pie if {
	not "SK-ELF-001" in found("deny", [f.elf("usr/lib/libx.so", {"hardening": {"pie": {"result": "na", "evidence": "shared object"}}})])
}

test_partial_relro_is_denied if {
	"SK-ELF-002" in found("deny", [f.elf("usr/bin/x", {"hardening": {"relro": "partial"}})])
}

test_relro_does_not_apply_to_relocatable_objects if {
	relocatable := f.elf("lib/modules/m.ko", {"hardening": {"relro": "none", "relro_check": {"result": "na", "evidence": "ET_REL"}}})
	not "SK-ELF-002" in found("deny", [relocatable])
}

test_an_executable_stack_is_denied if {
	"SK-ELF-003" in found("deny", [bad("nx")])
}

test_a_missing_canary_warns if {
	"SK-ELF-004" in found("warn", [bad("canary")])
	not "SK-ELF-004" in found("deny", [bad("canary")])
}

test_no_canary_check_for_go_and_rust if {
	not "SK-ELF-004" in found("warn", [f.elf("usr/bin/go", {"hardening": {"canary": {"result": "na", "evidence": "go"}}})])
}

test_search_paths_outside_system_folders_are_denied if {
	every entry in [
		{"rpath": [{"path": "/opt/app/lib"}]},
		{"runpath": [{"path": "$ORIGIN/../lib"}]},
		{"runpath": [{"path": ""}]},
		{"rpath": [{"path": "/usr/libexec"}]},
	] {
		"SK-ELF-005" in found("deny", [f.elf("usr/bin/x", entry)])
	}
}

test_search_paths_in_system_folders_pass if {
	not "SK-ELF-005" in found("deny", [f.elf("usr/bin/x", {"runpath": [{"path": "/usr/lib/x86_64-linux-gnu/"}, {"path": "/lib"}]})])
}

test_writable_executable_segments_are_denied if {
	"SK-ELF-006" in found("deny", [bad("writable_executable_segments")])
}

test_text_relocations_are_denied if {
	"SK-ELF-007" in found("deny", [bad("text_relocations")])
}

test_files_owned_by_a_package_are_in_the_sbom if {
	ids := f.ids(binaries.warn) with input as f.evidence([f.service({
		"binaries": [f.elf("usr/bin/x", {})],
		"packages": [{"name": "x", "files": ["usr/bin/x"]}],
	})])
	not "SK-SBOM-001" in ids
}

test_files_no_package_lists_warn if {
	"SK-SBOM-001" in found("warn", [f.elf("usr/bin/x", {})])
}

test_malformed_files_and_kernel_images_are_not_judged if {
	ids := f.ids(binaries.deny) with input as f.evidence([
		f.service({"binaries": [{"path": "usr/bin/junk", "elf": {"status": "malformed", "reason": "truncated"}}]}),
		f.component("kernel", {"binaries": [bad("pie")]}),
	])
	count(ids) == 0
}

test_shared_objects_need_not_have_full_relro if {
	library := f.elf("usr/lib/libx.so.1", {"hardening": {"relro": "partial", "pie": {"result": "na", "evidence": "shared object"}}})
	not "SK-ELF-002" in found("deny", [library])
}
