// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallcheck: whether user stacks can be unwound through a binary, by its call frame
 * information (the unwinder's own table builder decides, as the tools will).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "proc_maps.h"
#include "jvm.h"
#include "runtime_probe.h"
#include "stallcheck.h"
#include "unwind_table.h"

long unwind_rules_of(int fd)
{
	struct unwind_table t;
	Elf *elf;
	long rules = -1;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && !unwind_table_build(elf, &t)) {
		rules = t.count;
		unwind_table_free(&t);
	}
	if (elf)
		elf_end(elf);
	return rules;
}

static bool seen(const struct process_facts *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->binaries[i].path, path))
			return true;
	return false;
}

/* An interpreter or a JIT compiler in the binary: what its frames will look like */
static void note_runtime(struct process_facts *p, const char *path, int fd)
{
	struct runtime_binary b;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	if (elf && elf_kind(elf) == ELF_K_ELF) {
		runtime_probe(elf, path, &b);
		if (b.python) {
			python_support(&b, p->runtime, sizeof(p->runtime));
			p->runtime_supported = python_layout(b.py_version) && b.py_eval &&
					       b.py_code_type;
		} else if (b.v8) {
			p->runtime_supported = v8_supported(&b);
			snprintf(p->runtime, sizeof(p->runtime), "%s",
				 p->runtime_supported ?
					 "V8 (Node.js): supported" :
					 "V8 (Node.js): not supported (its v8dbg_ metadata lacks "
					 "what naming frames needs): named only by a perf map "
					 "(node --perf-basic-prof)");
		} else if (b.hotspot) {
			p->runtime_supported = jvm_preserves_frame_pointers(p->pid);
			snprintf(p->runtime, sizeof(p->runtime),
				 "HotSpot JVM: %s",
				 p->runtime_supported ?
					 "compiled methods named with --jvm-perfmap" :
					 "stacks stop at its code: it runs without "
					 "-XX:+PreserveFramePointer");
		}
		if (p->runtime[0])
			snprintf(p->runtime_path, sizeof(p->runtime_path), "%s", path);
	}
	if (elf)
		elf_end(elf);
}

static int note_binary(const struct proc_map *m, void *ctx)
{
	char open_path[PATH_MAX + 64];
	struct process_facts *p = ctx;
	struct binary_unwind *b = &p->binaries[p->n];
	int fd;

	if (m->perms[2] != 'x' || !m->inode || seen(p, m->path))
		return 0;
	snprintf(b->path, sizeof(b->path), "%s", m->path);
	fd = proc_map_open(p->pid, m, open_path, sizeof(open_path));
	b->rules = fd < 0 ? -1 : unwind_rules_of(fd);
	if (fd >= 0 && !p->runtime[0])
		note_runtime(p, m->path, fd);
	if (fd >= 0)
		close(fd);
	return ++p->n == PROCESS_MAX_BINARIES;
}

void process_collect(struct process_facts *p, pid_t pid)
{
	int err;

	p->pid = pid;
	err = proc_map_for_each(pid, note_binary, p);
	if (err < 0) {
		snprintf(p->why, sizeof(p->why), "cannot read /proc/%d/maps: %s", pid,
			 strerror(-err));
		return;
	}
	p->found = true;
}
