/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user-stack unwinder's userspace half: builds each binary's table once (by file identity),
 * shared by every process that maps it, and tells the BPF half (bpf/unwind.bpf.h) each traced
 * process's executable mappings.  Processes are added up front (-p) or when the BPF half asks
 * for them (their first event, or code mapped since).
 */
#ifndef STALLKIT_UNWINDER_H
#define STALLKIT_UNWINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <bpf/libbpf.h>
#include "options.h"
#include "symbolizer.h"
#include "unwind.h"

struct unwinder_maps {
	struct bpf_map *rows;
	struct bpf_map *pages;
	struct bpf_map *processes;
	struct bpf_map *requested;
	struct bpf_map *requests;
};

/* The maps of a skeleton whose BPF program includes bpf/unwind.bpf.h */
#define UNWINDER_MAPS(skel)                                                                \
	((struct unwinder_maps){ (skel)->maps.unwind_rows, (skel)->maps.unwind_pages,       \
				 (skel)->maps.unwind_processes, (skel)->maps.unwind_requested, \
				 (skel)->maps.unwind_requests })

#define UNWINDER_ROWS_DEFAULT (2 << 20) /* 16 MiB: host-wide, 40 processes mapped 1M rows at once */

/* Before the skeleton loads: room for rows table rows (0: the default) */
int unwinder_size(const struct unwinder_maps *m, size_t rows);

struct unwinder;

/*
 * After the skeleton loads; the BPF half's requests come through rb, the tool's ring buffer
 * (consumed with its own events).  The processes of targets (-p, and those of -t's threads) are
 * added at once; others when the BPF half first asks.  Interpreters' frames are walked unless
 * runtimes says not to.  NULL with a message on failure.
 */
struct unwinder *unwinder_new(const struct unwinder_maps *m, struct ring_buffer *rb,
			      const struct target_opts *targets, const struct runtime_opts *runtimes);
void unwinder_free(struct unwinder *u);

/* The symbolizer that notes each process when the unwinder reads it (NULL: none): a process
 * whose first stack ends its life (a short-lived command) still has its frames named */
void unwinder_set_symbolizer(struct unwinder *u, struct symbolizer *sym);

/* Tells the BPF half pid's executable mappings, building the tables it lacks: 0 or -errno */
int unwinder_add_process(struct unwinder *u, pid_t pid);

/*
 * A stack from the BPF half (n entries) that ended because pid's tables were not ready, finished
 * from the copy the event carried (bpf/unwind.h): the tables are built now and the copy unwound
 * by the same rules.  Other stacks, or when that cannot be done (the process is gone), are
 * copied as they are.  Writes at most max entries to out (frames, perhaps a mark); returns how
 * many.
 */
size_t unwinder_finish(struct unwinder *u, pid_t pid, const __u64 *stack, size_t n,
		       const struct unwind_copy *copy, uint64_t *out, size_t max);

/* Forgets processes that exited (at most once a second: call it as often as convenient; u may
 * be NULL) */
void unwinder_tick(struct unwinder *u);

struct unwinder_stats {
	size_t binaries;     /* with a table */
	size_t no_info;	     /* binaries without call frame information */
	size_t full;	     /* binaries whose table did not fit */
	size_t rows;	     /* rows used */
	size_t rows_cap;
	size_t pages;
	size_t processes;
	uint64_t build_ns;   /* time spent building and sending tables */
};
void unwinder_stats(const struct unwinder *u, struct unwinder_stats *out);
/* "note: unwind tables: ..." on stderr (-v): binaries, rows and their memory, build time */
void unwinder_print_stats(const struct unwinder *u);

#endif
