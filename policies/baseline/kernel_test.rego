package sealkit.baseline.kernel_test

import data.sealkit.baseline.kernel

warned(cmdline) := results if {
	results := kernel.warn with input as {"components": [], "files_section": [], "kernel": {"image": "k", "cmdline": cmdline}}
}

ids(cmdline) := {r.id | some r in warned(cmdline)}

test_command_lines_that_switch_protections_off_warn if {
	every cmdline in ["console=ttyS0 nokaslr", "mitigations=off", "init_on_alloc=0 quiet", "  lockdown=none  "] {
		ids(cmdline) == {"SK-KERNEL-001"}
	}
}

test_the_warning_names_the_parameter if {
	results := warned("console=ttyS0 module.sig_enforce=0")
	count(results) == 1
	some r in results
	r.msg == "the kernel command line has module.sig_enforce=0, which switches a protection off"
	r.path == "cmdline"
	r.component == "k"
}

test_ordinary_command_lines_pass if {
	every cmdline in ["console=ttyS0 panic=-1", "mitigations=auto quiet", "nokaslrx init_on_alloc=1", ""] {
		count(ids(cmdline)) == 0
	}
}
