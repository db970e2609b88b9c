// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What resolving a process's addresses needs, noted while it is alive: its mappings and the
 * files behind them, opened where they really are.  /proc/PID/map_files/START-END opens the
 * mapped file itself, which works for deleted files, memfd executables and files in another
 * mount namespace; /proc/PID/root/PATH is the fallback, checked against the inode the mapping
 * names.  The vDSO is copied out of the process's memory; JIT code is named by the process's
 * perf map (/tmp/perf-PID.map, PID as the process itself sees it, under its own root).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include "proc_maps.h"
#include "procfs.h"
#include "sym_internal.h"

static int add_map(struct sym_process *p, size_t *cap, const struct sym_map *map)
{
	if (p->nmaps == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 64;
		struct sym_map *grown = realloc(p->maps, grown_cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->maps = grown;
		*cap = grown_cap;
	}
	p->maps[p->nmaps++] = *map;
	return 0;
}

/* What identifies the file of a maps line */
struct map_identity {
	uint64_t inode;
	unsigned int major, minor;
	char path[PATH_MAX];
};

static bool same_file(const struct map_identity *id, const struct proc_map *m)
{
	return id->inode == m->inode && id->major == m->major && id->minor == m->minor &&
	       !strcmp(id->path, m->path);
}

static struct sym_file *open_file(struct symbolizer *s, pid_t pid, const struct proc_map *m)
{
	char open_path[PATH_MAX + 64] = "", debug_dir[64];
	int fd;

	if (!strcmp(m->path, "[vdso]"))
		fd = proc_map_copy(pid, m);
	else if (m->inode)
		fd = proc_map_open(pid, m, open_path, sizeof(open_path));
	else
		return NULL;
	if (fd < 0)
		return NULL;
	/* separate debug files of a container are under its own root */
	snprintf(debug_dir, sizeof(debug_dir), "/proc/%d/root/usr/lib/debug", pid);
	return sym_file_open(s, fd, m->path, open_path[0] ? open_path : NULL, debug_dir);
}

struct maps_reading {
	struct symbolizer *s;
	struct sym_process *p;
	size_t cap;
	struct map_identity prev; /* the file of the line before */
	struct sym_map *prev_map; /* its map, NULL if it had none */
};

static int read_map(const struct proc_map *m, void *ctx)
{
	struct maps_reading *r = ctx;
	struct sym_map map = { .start = m->start, .end = m->end };
	int err = 0;

	if (r->prev_map && r->prev_map->file && same_file(&r->prev, m)) {
		/* the next segment of the file: its bias is the first one's */
		map.file = r->prev_map->file;
		map.bias = r->prev_map->bias;
	} else if ((map.file = open_file(r->s, r->p->pid, m))) {
		map.bias = sym_file_bias(map.file, m->start, m->pgoff);
	} else if (m->perms[2] == 'x') {
		/* executable memory with no file: JIT code, or unknown */
		map.name = strdup(m->path[0] ? m->path : "[anon]");
		if (!map.name)
			return -ENOMEM;
	} else {
		r->prev_map = NULL;
		return 0; /* data: no code to name */
	}
	err = add_map(r->p, &r->cap, &map);
	r->prev_map = err ? NULL : &r->p->maps[r->p->nmaps - 1];
	r->prev.inode = m->inode;
	r->prev.major = m->major;
	r->prev.minor = m->minor;
	snprintf(r->prev.path, sizeof(r->prev.path), "%s", m->path);
	return err;
}

static int read_maps(struct symbolizer *s, struct sym_process *p)
{
	struct maps_reading *r = calloc(1, sizeof(*r)); /* a path of PATH_MAX: not for the stack */
	int err;

	if (!r)
		return -ENOMEM;
	r->s = s;
	r->p = p;
	err = proc_map_for_each(p->pid, read_map, r);
	free(r);
	return err;
}

static int jit_compare(const void *a, const void *b)
{
	uint64_t x = ((const struct sym_jit *)a)->start, y = ((const struct sym_jit *)b)->start;

	return x < y ? -1 : x > y;
}

static void free_jit(struct sym_process *p)
{
	free(p->jit);
	p->jit = NULL;
	p->njit = 0;
}

/* "START SIZE name" lines, hex without 0x; read again when the file has grown (the names stay:
 * frames returned before point to them) */
static void read_jit_map(struct symbolizer *s, struct sym_process *p)
{
	char path[128], *line = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/root/tmp/perf-%d.map", p->pid, p->nspid);
	if (stat(path, &st) ||
	    (st.st_mtim.tv_sec == p->jit_mtime.tv_sec && st.st_mtim.tv_nsec == p->jit_mtime.tv_nsec))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	free_jit(p);
	p->jit_mtime = st.st_mtim;
	while (getline(&line, &len, f) > 0) {
		struct sym_jit j;
		int name_at = 0;

		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &j.start, &j.size, &name_at) < 2 ||
		    !name_at)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (p->njit == cap) {
			size_t grown_cap = cap ? cap * 2 : 256;
			struct sym_jit *grown = realloc(p->jit, grown_cap * sizeof(*grown));

			if (!grown)
				break;
			p->jit = grown;
			cap = grown_cap;
		}
		j.name = sym_keep_string(s, strdup(line + name_at));
		if (j.name)
			p->jit[p->njit++] = j;
	}
	free(line);
	fclose(f);
	if (p->njit)
		qsort(p->jit, p->njit, sizeof(*p->jit), jit_compare);
}

static void free_maps(struct sym_process *p)
{
	for (size_t i = 0; i < p->nmaps; i++)
		free(p->maps[i].name);
	free(p->maps);
	p->maps = NULL;
	p->nmaps = 0;
}

void sym_process_free(struct sym_process *p)
{
	if (!p)
		return;
	free_maps(p);
	free_jit(p);
	free(p);
}

static int compare_pids(const void *a, const void *b)
{
	pid_t x = ((const struct sym_process *)a)->pid, y = ((const struct sym_process *)b)->pid;

	return x < y ? -1 : x > y;
}

/* By the index of PIDs: a report asks once per stack, among thousands of processes */
struct sym_process *sym_process_find(struct symbolizer *s, pid_t pid)
{
	struct sym_process key = { .pid = pid };
	struct sym_process **found = tfind(&key, &s->process_index, compare_pids);

	return found ? *found : NULL;
}

/* Processes noted at most: the least recently noted goes first */
#define MAX_PROCESSES 4096

static void forget_oldest(struct symbolizer *s)
{
	struct sym_process **p = &s->processes;

	if (!*p)
		return;
	while ((*p)->next)
		p = &(*p)->next;
	tdelete(*p, &s->process_index, compare_pids);
	sym_process_free(*p);
	*p = NULL;
	s->nprocesses--;
}

int sym_process_note(struct symbolizer *s, pid_t pid)
{
	struct sym_process *p = sym_process_find(s, pid), fresh = { .pid = pid };
	int err;

	err = read_maps(s, &fresh);
	if (err) {
		free_maps(&fresh);
		return err;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			free_maps(&fresh);
			return -ENOMEM;
		}
		p->pid = pid;
		p->hotspot = -1;
		if (!tsearch(p, &s->process_index, compare_pids)) {
			free(p);
			free_maps(&fresh);
			return -ENOMEM;
		}
		p->next = s->processes;
		s->processes = p;
		if (++s->nprocesses > MAX_PROCESSES)
			forget_oldest(s);
	}
	free_maps(p);
	p->maps = fresh.maps;
	p->nmaps = fresh.nmaps;
	p->nspid = proc_namespace_pid(pid);
	read_jit_map(s, p);
	return 0;
}

const struct sym_map *sym_process_map(const struct sym_process *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nmaps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

const struct sym_jit *sym_process_jit(struct symbolizer *s, struct sym_process *p, uint64_t addr)
{
	size_t lo = 0, hi;

	read_jit_map(s, p); /* JIT maps grow while the program runs */
	hi = p->njit;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < p->jit[mid].start)
			hi = mid;
		else if (addr >= p->jit[mid].start + p->jit[mid].size)
			lo = mid + 1;
		else
			return &p->jit[mid];
	}
	return NULL;
}
