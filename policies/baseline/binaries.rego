# The ELF files of each container's image (or of a lone image): hardening as docs/binaries.md
# reports it, each check `pass`, `fail`, `na` or `unknown`. Only `fail` is judged: `na` means
# the protection does not apply (a shared object is not PIE; Go and Rust have no canary), and
# `unknown` that the file cannot tell.
package sealkit.baseline.binaries

import data.sealkit.baseline.lib

failing(c, check) := [b |
	some b in lib.elf_files(c)
	b.elf.hardening[check].result == "fail"
]

# METADATA
# title: Executables are position-independent (PIE)
# description: >-
#   A position-dependent executable is loaded at the same address every time, so ASLR cannot
#   hide its code from an exploit.
# custom:
#   id: SK-ELF-001
#   severity: HIGH
#   aliases: [no-pie, checksec-pie]
#   remediation: Build with -fPIE -pie (Go -buildmode=pie), or record an exception for the file.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some b in failing(c, "pie")
	r := {
		"id": "SK-ELF-001",
		"msg": sprintf("%s is not position-independent (%s)", [b.path, b.elf.hardening.pie.evidence]),
		"component": c.name,
		"path": b.path,
	}
}

# METADATA
# title: Executables have full RELRO
# description: >-
#   Without full RELRO (PT_GNU_RELRO and immediate binding), an executable's global offset table
#   stays writable while the program runs: an overwrite there redirects its calls. Judged on
#   executables, as hardening-check does: distributions link shared libraries without
#   immediate binding, and a library's table is bound when the executable's is.
# custom:
#   id: SK-ELF-002
#   severity: HIGH
#   aliases: [no-relro, no-bindnow, checksec-relro]
#   remediation: Link with -Wl,-z,relro,-z,now, or record an exception for the file.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some b in lib.elf_files(c)
	h := b.elf.hardening
	h.relro_check.result != "na"
	h.pie.result != "na"
	h.relro != "full"
	r := {
		"id": "SK-ELF-002",
		"msg": sprintf("%s has %s RELRO (%s)", [b.path, h.relro, h.bind_now.evidence]),
		"component": c.name,
		"path": b.path,
	}
}

# METADATA
# title: No executable stack
# description: >-
#   A file whose PT_GNU_STACK is executable, or that has none (the kernel then makes the stack
#   executable), lets code written to the stack run.
# custom:
#   id: SK-ELF-003
#   severity: HIGH
#   aliases: [checksec-nx, execstack]
#   remediation: Link with -z noexecstack and remove assembly that asks for an executable stack.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some b in failing(c, "nx")
	r := {
		"id": "SK-ELF-003",
		"msg": sprintf("%s has an executable stack (%s)", [b.path, b.elf.hardening.nx.evidence]),
		"component": c.name,
		"path": b.path,
	}
}

# METADATA
# title: Code with stack buffers is built with a stack protector
# description: >-
#   The file calls no __stack_chk_fail: it was built without -fstack-protector, or has no
#   function with a stack buffer (which the file cannot tell), hence a warning.
# custom:
#   id: SK-ELF-004
#   severity: LOW
#   aliases: [no-stackprotector, checksec-canary]
#   remediation: Build with -fstack-protector-strong.
warn contains r if {
	some c in input.components
	lib.judged(c)
	some b in failing(c, "canary")
	r := {
		"id": "SK-ELF-004",
		"msg": sprintf("%s has no stack protector (%s)", [b.path, b.elf.hardening.canary.evidence]),
		"component": c.name,
		"path": b.path,
	}
}

# Where the dynamic loader looks anyway: a search path here adds nothing an attacker controls.
system_dirs := {"/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib"}

system_dir(path) if {
	some dir in system_dirs
	lib.under(lib.clean(path), dir)
}

search_paths(b) := array.concat(
	[{"kind": "RPATH", "entry": e} | some e in b.elf.rpath],
	[{"kind": "RUNPATH", "entry": e} | some e in b.elf.runpath],
)

# METADATA
# title: No library search path outside the system's library folders
# description: >-
#   An RPATH or RUNPATH entry outside /lib, /usr/lib and their kin (a relative or empty entry,
#   $ORIGIN, or another folder) makes the loader take libraries from wherever it points: from
#   the working directory, or from a folder someone else can write.
# custom:
#   id: SK-ELF-005
#   severity: MEDIUM
#   aliases: [checksec-rpath, checksec-runpath]
#   remediation: Install the libraries in a system folder and link without -rpath.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some b in lib.elf_files(c)
	some s in search_paths(b)
	not system_dir(s.entry.path)
	r := {
		"id": "SK-ELF-005",
		"msg": sprintf("%s has %s \"%s\" outside the system's library folders", [b.path, s.kind, s.entry.path]),
		"component": c.name,
		"path": b.path,
	}
}

# METADATA
# title: No segment both writable and executable
# description: A PT_LOAD segment that is writable and executable lets written data run as code.
# custom:
#   id: SK-ELF-006
#   severity: HIGH
#   aliases: [checksec-rwx]
#   remediation: Link without -N/--omagic and keep code and data in separate segments.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some b in failing(c, "writable_executable_segments")
	r := {
		"id": "SK-ELF-006",
		"msg": sprintf("%s has a writable and executable segment (%s)", [b.path, b.elf.hardening.writable_executable_segments.evidence]),
		"component": c.name,
		"path": b.path,
	}
}

# METADATA
# title: No text relocations
# description: >-
#   Text relocations make the loader write into code pages, which then stay writable or are
#   made so: they defeat W^X and keep the pages from being shared.
# custom:
#   id: SK-ELF-007
#   severity: MEDIUM
#   aliases: [textrel, checksec-textrel]
#   remediation: Build every object with -fPIC.
deny contains r if {
	some c in input.components
	lib.judged(c)
	some b in failing(c, "text_relocations")
	r := {
		"id": "SK-ELF-007",
		"msg": sprintf("%s has text relocations (%s)", [b.path, b.elf.hardening.text_relocations.evidence]),
		"component": c.name,
		"path": b.path,
	}
}

# METADATA
# title: Every ELF file belongs to a package
# description: >-
#   An ELF file no package lists is missing from the SBOM: no vulnerability scan will ever see
#   it. Warned, since a static binary copied in on purpose is common.
# custom:
#   id: SK-SBOM-001
#   severity: LOW
#   aliases: []
#   remediation: Install the file from a package, or ship an SBOM in the image that lists it.
warn contains r if {
	some c in input.components
	lib.judged(c)
	owned := {f | some p in c.packages; some f in p.files}
	some b in lib.elf_files(c)
	not owned[b.path]
	r := {
		"id": "SK-SBOM-001",
		"msg": sprintf("%s belongs to no package the SBOM lists", [b.path]),
		"component": c.name,
		"path": b.path,
	}
}
