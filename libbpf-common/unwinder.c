// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tables go to the BPF half once per binary, each into a run of one array of rows; each 4 KiB
 * page of a binary's code gets the span of rows to search for it.  When a table does not fit,
 * those of binaries no traced process maps any more leave.  A binary is known by its device
 * and inode, reached through /proc/PID/map_files, so a binary replaced or deleted since the
 * process started is the one it runs.  The vDSO is the same image in every process: it is read
 * once.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "proc_maps.h"
#include "jvm.h"
#include "procfs.h"
#include "runtime_probe.h"
#include "unwind_space.h"
#include "unwinder_internal.h"

#define MAX_EXEC_SEGMENTS 4
#define PROCESSES_MAX	  4096
#define PAGES_MAX	  (1 << 17) /* host-wide, 14000 were seen for 1M rows */

struct binary {
	dev_t dev;
	ino_t ino;
	bool vdso;
	struct runtime_binary runtime; /* V8's builtins are in it (code without call frame
					* information, but with frame pointers), or CPython */
	enum unwind_mapping_kind kind;
	__u32 table;
	struct unwind_table rows; /* kept for unwinder_finish() and eviction */
	__u32 rows_start;	  /* where in the BPF half's array */
	unsigned int users;	  /* mappings of the processes told to the BPF half */
	/* executable load segments: page-aligned file offset -> virtual address */
	uint64_t seg_offset[MAX_EXEC_SEGMENTS];
	uint64_t seg_vaddr[MAX_EXEC_SEGMENTS];
	size_t nsegs;
	struct binary *next;
};

/* A process told to the BPF half, and the binaries of its mappings (a binary once a mapping) */
struct tracked {
	pid_t pid;
	struct binary **binaries;
	size_t n;
};

struct unwinder {
	struct unwinder_maps maps;
	struct binary *binaries;
	struct unwind_space space; /* of the rows array */
	size_t pages;
	__u32 next_table;
	struct tracked *procs;
	size_t nprocs, procs_cap;
	struct unwind_process *scratch;
	struct snapshot *snapshot;
	struct symbolizer *sym;
	bool runtimes; /* interpreters' frames are walked */
	uint64_t build_ns;
	time_t last_sweep;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int unwinder_size(const struct unwinder_maps *m, size_t rows)
{
	int err = bpf_map__set_max_entries(m->rows, rows ? rows : UNWINDER_ROWS_DEFAULT);

	if (!err)
		err = bpf_map__set_max_entries(m->pages, PAGES_MAX);
	if (!err)
		err = bpf_map__set_max_entries(m->processes, PROCESSES_MAX);
	return err;
}

static void note_segments(Elf *elf, struct binary *b)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	size_t nph;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &nph))
		return;
	for (size_t i = 0; i < nph && b->nsegs < MAX_EXEC_SEGMENTS; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		b->seg_offset[b->nsegs] = ph.p_offset & ~(page - 1);
		b->seg_vaddr[b->nsegs++] = ph.p_vaddr & ~(page - 1);
	}
}

/* The span of rows that covers each page of the table's code, its rows starting at base in
 * the array: how many pages (keys and values malloc'ed), or -ENOMEM */
static long table_pages(const struct unwind_table *t, __u32 table, __u32 base,
			struct unwind_page_key **keys_out, struct unwind_page **values_out)
{
	size_t n = 0, cap = 0, first = 0;
	struct unwind_page_key *keys = NULL;
	struct unwind_page *values = NULL;

	for (__u64 page = t->rows[0].pc >> UNWIND_PAGE_SHIFT;
	     page <= t->rows[t->count - 1].pc >> UNWIND_PAGE_SHIFT; page++) {
		__u64 start = page << UNWIND_PAGE_SHIFT, end = start + (1 << UNWIND_PAGE_SHIFT);
		size_t last = first;

		while (first + 1 < t->count && t->rows[first + 1].pc <= start)
			first++;
		while (last + 1 < t->count && t->rows[last + 1].pc < end)
			last++;
		if (first == last && t->rows[first].rule == UNWIND_NONE)
			continue; /* no code described here */
		if (n == cap) {
			void *k, *v;

			cap = cap ? 2 * cap : 256;
			k = realloc(keys, cap * sizeof(*keys));
			v = realloc(values, cap * sizeof(*values));
			keys = k ? k : keys;
			values = v ? v : values;
			if (!k || !v) {
				free(keys);
				free(values);
				return -ENOMEM;
			}
		}
		keys[n] = (struct unwind_page_key){ .table = table, .page = page };
		values[n++] = (struct unwind_page){ .first = base + first, .count = last - first + 1 };
	}
	*keys_out = keys;
	*values_out = values;
	return n;
}

static int send_pages(struct unwinder *u, const struct unwind_table *t, __u32 table, __u32 base)
{
	struct unwind_page_key *keys;
	struct unwind_page *values;
	long n = table_pages(t, table, base, &keys, &values);
	__u32 count = n;
	int err = 0;

	if (n < 0)
		return n;
	if (u->pages + n > PAGES_MAX)
		err = -ENOSPC;
	else if (n && bpf_map_update_batch(bpf_map__fd(u->maps.pages), keys, values, &count, NULL))
		err = -errno;
	else
		u->pages += n;
	free(keys);
	free(values);
	return err;
}

/* Tables no process maps any more leave the BPF half, to make room */
static void evict_unused(struct unwinder *u)
{
	struct binary **link = &u->binaries;

	while (*link) {
		struct binary *b = *link;
		struct unwind_page_key *keys;
		struct unwind_page *values;
		long n;

		if (b->users || b->kind != UNWIND_MAP_TABLE) {
			link = &b->next;
			continue;
		}
		n = table_pages(&b->rows, b->table, b->rows_start, &keys, &values);
		for (long i = 0; i < n; i++)
			bpf_map_delete_elem(bpf_map__fd(u->maps.pages), &keys[i]);
		if (n > 0) {
			u->pages -= n;
			free(keys);
			free(values);
		}
		unwind_space_give(&u->space, b->rows_start, b->rows.count);
		unwind_table_free(&b->rows);
		*link = b->next;
		free(b);
	}
}

static int send_table(struct unwinder *u, const struct unwind_table *t, struct binary *b)
{
	__u32 *keys, count = t->count;
	long start = unwind_space_take(&u->space, t->count);
	int err = 0;

	if (start < 0) {
		evict_unused(u);
		start = unwind_space_take(&u->space, t->count);
	}
	if (start < 0) {
		b->kind = UNWIND_MAP_FULL;
		return 0;
	}
	keys = malloc(t->count * sizeof(*keys));
	if (!keys) {
		unwind_space_give(&u->space, start, t->count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->count; i++)
		keys[i] = start + i;
	if (bpf_map_update_batch(bpf_map__fd(u->maps.rows), keys, t->rows, &count, NULL))
		err = -errno;
	free(keys);
	b->table = u->next_table;
	if (!err)
		err = send_pages(u, t, b->table, start);
	if (err) {
		unwind_space_give(&u->space, start, t->count);
		if (err != -ENOSPC)
			return err;
		b->kind = UNWIND_MAP_FULL;
		return 0;
	}
	u->next_table++;
	b->rows_start = start;
	b->kind = UNWIND_MAP_TABLE;
	return 0;
}

static struct binary *binary_build(struct unwinder *u, int fd, const char *path,
				   const struct stat *st, bool vdso)
{
	struct binary *b = calloc(1, sizeof(*b));
	struct unwind_table t = { 0 };
	uint64_t start = now_ns();
	Elf *elf;

	if (!b)
		return NULL;
	b->dev = st->st_dev;
	b->ino = st->st_ino;
	b->vdso = vdso;
	b->kind = UNWIND_MAP_NO_INFO;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		note_segments(elf, b);
		runtime_probe(elf, path, &b->runtime);
		if (!unwind_table_build(elf, &t) && t.count) {
			if (send_table(u, &t, b)) {
				unwind_table_free(&t);
				free(b);
				b = NULL;
			} else {
				b->rows = t;
			}
		}
	}
	if (elf)
		elf_end(elf);
	u->build_ns += now_ns() - start;
	if (b) {
		b->next = u->binaries;
		u->binaries = b;
	}
	return b;
}

static struct binary *binary_find(struct unwinder *u, const struct stat *st, bool vdso)
{
	for (struct binary *b = u->binaries; b; b = b->next)
		if (vdso ? b->vdso : !b->vdso && b->dev == st->st_dev && b->ino == st->st_ino)
			return b;
	return NULL;
}

/* The file of a mapping, opened at once: the process may exit while the tables are built */
static int open_mapping(pid_t pid, const struct proc_map *m)
{
	char open_path[PATH_MAX + 64];

	if (!strcmp(m->path, "[vdso]"))
		return proc_map_copy(pid, m);
	return m->inode ? proc_map_open(pid, m, open_path, sizeof(open_path)) : -1;
}

static struct binary *binary_of(struct unwinder *u, const struct proc_map *m, int fd)
{
	bool vdso = !strcmp(m->path, "[vdso]");
	struct stat st = { 0 };
	struct binary *b;

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	b = binary_find(u, &st, vdso);
	return b ? b : binary_build(u, fd, m->path, &st, vdso);
}

/* The process runs CPython from b, loaded at bias: where the BPF half finds its frames */
static void python_runtime_of(const struct binary *b, uint64_t bias, struct unwind_runtime *out)
{
	const struct python_layout *layout = python_layout(b->runtime.py_version);

	if (!layout || !b->runtime.py_eval || out->kind != RUNTIME_NONE)
		return;
	*out = (struct unwind_runtime){
		.kind = RUNTIME_PYTHON,
		.state = b->runtime.py_runtime + bias,
		.eval_start = b->runtime.py_eval + bias,
		.eval_end = b->runtime.py_eval + b->runtime.py_eval_size + bias,
		.python = *layout,
	};
}

/* What a process's mappings say of the runtimes it runs */
struct process_runtimes {
	bool v8;			/* its anonymous code is V8's, which keeps frame pointers */
	bool hotspot;			/* it runs a HotSpot JVM */
	struct unwind_runtime *runtime; /* where its frames' functions are, for the BPF half */
};

/* The process runs V8 from b: where its frames keep their functions */
static void v8_runtime_of(const struct binary *b, struct unwind_runtime *out)
{
	const struct v8_objects *o = &b->runtime.v8_objects;

	if (!v8_supported(&b->runtime) || out->kind != RUNTIME_NONE)
		return;
	*out = (struct unwind_runtime){
		.kind = RUNTIME_V8,
		.v8 = { .fp_function = o->fp_function, .fp_context = o->fp_context,
			.fp_bytecode_offset = o->fp_bytecode_offset,
			.fp_bytecode_array = o->fp_bytecode_array,
			.function_shared = o->function_shared },
	};
}

/* A mapping for the BPF half; false if it is none of its business.  Notes in rt what it says
 * of the process's runtimes. */
static bool mapping_of(struct unwinder *u, const struct proc_map *m, int fd,
		       struct unwind_mapping *out, struct process_runtimes *rt,
		       struct binary **used)
{
	struct binary *b;

	*out = (struct unwind_mapping){ .start = m->start, .end = m->end, .kind = UNWIND_MAP_ANON };
	if (!strcmp(m->path, "[uprobes]")) {
		out->kind = UNWIND_MAP_UPROBES;
		return true;
	}
	b = binary_of(u, m, fd);
	*used = b;
	if (b)
		b->users++; /* at once: a later table's room must not come from this one */
	if (!b && m->inode)
		out->kind = UNWIND_MAP_NO_INFO; /* a file that could not be read */
	if (!b)
		return strcmp(m->path, "[vsyscall]");
	out->table = b->table;
	out->kind = UNWIND_MAP_NO_INFO;
	if (b->runtime.v8) {
		out->flags |= UNWIND_FP_WITHOUT_INFO;
		rt->v8 = true;
		if (u->runtimes)
			v8_runtime_of(b, rt->runtime);
	}
	rt->hotspot |= b->runtime.hotspot;
	for (size_t i = 0; i < b->nsegs; i++) {
		if (b->seg_offset[i] == m->pgoff) {
			out->bias = m->start - b->seg_vaddr[i];
			out->kind = b->kind;
			if (b->runtime.python && u->runtimes)
				python_runtime_of(b, out->bias, rt->runtime);
		}
	}
	return true;
}

static struct tracked *tracked_of(struct unwinder *u, pid_t pid)
{
	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	if (u->nprocs == u->procs_cap) {
		size_t cap = u->procs_cap ? 2 * u->procs_cap : 64;
		struct tracked *procs = realloc(u->procs, cap * sizeof(*procs));

		if (!procs)
			return NULL;
		u->procs = procs;
		u->procs_cap = cap;
	}
	u->procs[u->nprocs] = (struct tracked){ .pid = pid };
	return &u->procs[u->nprocs++];
}

/* The binaries it used are used no more by this process */
static void tracked_release(struct tracked *t)
{
	for (size_t i = 0; i < t->n; i++)
		t->binaries[i]->users--;
	free(t->binaries);
	t->binaries = NULL;
	t->n = 0;
}

/* A process's executable mappings, each with its file open */
struct snapshot {
	struct proc_map maps[UNWIND_MAX_MAPPINGS]; /* each path its own copy */
	int fds[UNWIND_MAX_MAPPINGS];
	size_t n;
	pid_t pid;
};

static int snapshot_add(const struct proc_map *m, void *ctx)
{
	struct snapshot *s = ctx;

	if (m->perms[2] != 'x')
		return 0;
	s->maps[s->n] = *m;
	s->maps[s->n].path = strdup(m->path);
	if (!s->maps[s->n].path)
		return -ENOMEM;
	s->fds[s->n] = open_mapping(s->pid, m);
	return ++s->n == UNWIND_MAX_MAPPINGS;
}

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		free(s->maps[i].path);
	}
	s->n = 0;
}

static int snapshot_take(struct snapshot *s, pid_t pid)
{
	int err;

	s->n = 0;
	s->pid = pid;
	err = proc_map_for_each(pid, snapshot_add, s);
	if (err < 0)
		snapshot_free(s);
	return err < 0 ? err : 0;
}

int unwinder_add_process(struct unwinder *u, pid_t pid)
{
	struct unwind_process *p = u->scratch;
	struct snapshot *snap = u->snapshot;
	struct binary **used;
	struct tracked *t;
	__u32 key = pid;
	struct process_runtimes rt = { .runtime = &p->runtime };
	bool fp_code;
	size_t nused = 0;
	int err;

	err = snapshot_take(snap, pid);
	if (err)
		return err;
	if (u->sym)
		symbolizer_note_process(u->sym, pid);
	used = calloc(snap->n ? snap->n : 1, sizeof(*used));
	t = tracked_of(u, pid);
	if (!used || !t) {
		free(used);
		snapshot_free(snap);
		return -ENOMEM;
	}
	p->count = 0;
	p->runtime = (struct unwind_runtime){ .kind = RUNTIME_NONE };
	for (size_t i = 0; i < snap->n; i++) {
		if (mapping_of(u, &snap->maps[i], snap->fds[i], &p->maps[p->count], &rt,
			       &used[nused]))
			p->count++;
		nused += used[nused] != NULL;
	}
	snapshot_free(snap);
	/* a process that runs V8, or a JVM whose compiled code keeps frame pointers: its
	 * anonymous code is theirs, and walked by frame pointer */
	fp_code = rt.v8 || (rt.hotspot && jvm_preserves_frame_pointers(pid));
	for (__u32 i = 0; fp_code && i < p->count; i++)
		if (p->maps[i].kind == UNWIND_MAP_ANON)
			p->maps[i].flags |= UNWIND_FP_WITHOUT_INFO;
	tracked_release(t); /* its mappings of before, if it was told before */
	t->binaries = used;
	t->n = nused;
	if (bpf_map_update_elem(bpf_map__fd(u->maps.processes), &key, p, BPF_ANY))
		return -errno;
	return 0;
}

void unwinder_set_symbolizer(struct unwinder *u, struct symbolizer *sym)
{
	if (u)
		u->sym = sym;
}



static int on_request(void *ctx, void *data, size_t size)
{
	struct unwinder *u = ctx;
	struct runtime_request req;
	__u32 pid;

	if (size >= sizeof(req)) {
		memcpy(&req, data, sizeof(req));
		if (u->sym && req.kind == RUNTIME_PYTHON)
			symbolizer_note_python_code(u->sym, req.tgid, req.object);
		else if (u->sym && req.kind == RUNTIME_V8)
			symbolizer_note_v8_function(u->sym, req.tgid, req.object);
		return 0;
	}
	if (size < sizeof(pid))
		return 0;
	memcpy(&pid, data, sizeof(pid));
	unwinder_add_process(u, pid);
	return 0;
}

static void forget_exited(struct unwinder *u)
{
	size_t w = 0;

	for (size_t i = 0; i < u->nprocs; i++) {
		__u32 key = u->procs[i].pid;

		if (kill(u->procs[i].pid, 0) && errno == ESRCH) {
			bpf_map_delete_elem(bpf_map__fd(u->maps.processes), &key);
			tracked_release(&u->procs[i]);
		} else {
			u->procs[w++] = u->procs[i];
		}
	}
	u->nprocs = w;
}

/* Each process may ask again: at most once a second, however often its stacks run into code
 * its table lacks */
static void allow_requests(struct unwinder *u)
{
	int fd = bpf_map__fd(u->maps.requested);
	__u32 key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			break;
}

void unwinder_tick(struct unwinder *u)
{
	time_t now = time(NULL);

	if (u && now != u->last_sweep) {
		u->last_sweep = now;
		forget_exited(u);
		allow_requests(u);
	}
}

static void add_targets(struct unwinder *u, const struct target_opts *t)
{
	pid_t tgid;

	for (size_t i = 0; i < t->pids.len; i++)
		unwinder_add_process(u, t->pids.ids[i]);
	for (size_t i = 0; i < t->tids.len; i++)
		if (proc_id_kind(t->tids.ids[i], &tgid) != PROC_ID_NONE)
			unwinder_add_process(u, tgid);
}

struct unwinder *unwinder_new(const struct unwinder_maps *m, struct ring_buffer *rb,
			      const struct target_opts *targets, const struct runtime_opts *runtimes)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u) {
		warnx("setting up the user-stack unwinder: out of memory");
		return NULL;
	}
	u->maps = *m;
	u->runtimes = !runtimes->no_runtime_frames;
	u->scratch = calloc(1, sizeof(*u->scratch));
	u->snapshot = calloc(1, sizeof(*u->snapshot));
	elf_version(EV_CURRENT);
	if (!u->scratch || !u->snapshot ||
	    unwind_space_init(&u->space, bpf_map__max_entries(m->rows)) || ring_buffer__add(rb, bpf_map__fd(m->requests), on_request, u)) {
		warn("setting up the user-stack unwinder");
		unwinder_free(u);
		return NULL;
	}
	add_targets(u, targets);
	return u;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nprocs; i++)
		tracked_release(&u->procs[i]); /* before the binaries they count on */
	free(u->procs);
	while (u->binaries) {
		struct binary *next = u->binaries->next;

		unwind_table_free(&u->binaries->rows);
		free(u->binaries);
		u->binaries = next;
	}
	unwind_space_free(&u->space);
	free(u->scratch);
	free(u->snapshot);
	free(u);
}

void unwinder_stats(const struct unwinder *u, struct unwinder_stats *out)
{
	*out = (struct unwinder_stats){
		.rows = u->space.used, .rows_cap = u->space.size, .pages = u->pages,
		.processes = u->nprocs, .build_ns = u->build_ns,
	};
	for (const struct binary *b = u->binaries; b; b = b->next) {
		out->binaries += b->kind == UNWIND_MAP_TABLE;
		out->no_info += b->kind == UNWIND_MAP_NO_INFO;
		out->full += b->kind == UNWIND_MAP_FULL;
	}
}

void unwinder_print_stats(const struct unwinder *u)
{
	struct unwinder_stats st;

	if (!u)
		return;
	unwinder_stats(u, &st);
	fprintf(stderr,
		"note: unwind tables: %zu processes, %zu binaries (%zu without unwind info, %zu that "
		"did not fit), %zu of %zu rows (%zu KiB) and %zu pages, built in %.1f ms\n",
		st.processes, st.binaries, st.no_info, st.full, st.rows, st.rows_cap,
		st.rows * sizeof(struct unwind_row) / 1024, st.pages, st.build_ns / 1e6);
}

const struct unwind_table *unwinder_table(const struct unwinder *u, __u32 table)
{
	for (const struct binary *b = u->binaries; b; b = b->next)
		if (b->kind == UNWIND_MAP_TABLE && b->table == table)
			return &b->rows;
	return NULL;
}

struct unwind_process *unwinder_scratch(struct unwinder *u)
{
	return u->scratch;
}

const struct unwinder_maps *unwinder_maps(const struct unwinder *u)
{
	return &u->maps;
}
