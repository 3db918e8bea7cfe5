# Helpers the baseline's rules share: which components each kind of rule judges.
package sealkit.baseline.lib

# What LinuxKit runs as a container: its privileges are judged.
container(c) if c.role in {"onboot", "onshutdown", "service"}

service(c) if c.role == "service"

# Images whose files and binaries are judged: every container's, or a lone image checked on its
# own. Kernel, init and volume images are LinuxKit's plumbing, judged by their own rules.
judged(c) if container(c)

judged(c) if c.role == "image"

# The ELF files of a judged component, with their facts.
elf_files(c) := [b | some b in c.binaries; b.elf.status == "elf"]

# `path` is `dir` or below it.
under(path, dir) if path == dir

under(path, dir) if startswith(path, concat("", [dir, "/"]))

under(_, "/") := true

# A path without trailing slashes (but `/` stays `/`).
clean(path) := "/" if trim_right(path, "/") == ""

clean(path) := trimmed if {
	trimmed := trim_right(path, "/")
	trimmed != ""
}
