// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallcheck: whether user stacks can be unwound through a binary, by its call frame
 * information (the unwinder's own table builder decides, as the tools will).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proc_maps.h"
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

void process_collect(struct process_facts *p, pid_t pid)
{
	char path[64], open_path[PATH_MAX + 64], *line = NULL;
	size_t len = 0;
	struct proc_map m;
	FILE *f;

	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		snprintf(p->why, sizeof(p->why), "cannot read %s: %s", path, strerror(errno));
		return;
	}
	while (getline(&line, &len, f) > 0 && p->n < PROCESS_MAX_BINARIES) {
		struct binary_unwind *b = &p->binaries[p->n];
		int fd;

		if (!proc_map_parse(line, &m) || m.perms[2] != 'x' || !m.inode || seen(p, m.path))
			continue;
		snprintf(b->path, sizeof(b->path), "%s", m.path);
		fd = proc_map_open(pid, &m, open_path, sizeof(open_path));
		b->rules = fd < 0 ? -1 : unwind_rules_of(fd);
		if (fd >= 0)
			close(fd);
		p->n++;
	}
	free(line);
	fclose(f);
	p->found = true;
}
