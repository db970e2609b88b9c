/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * offcputime: the blocks counted in BPF, read into rows (one per process or thread, stack pair
 * and state), with report periods for -i that leave the maps alone (see syslat_collect.h).
 * profile's samples are rows of the same kind (bpf/offcpu.bpf.h, bpf/profile.bpf.c).
 */
#ifndef STALLKIT_OFFCPUTIME_COLLECT_H
#define STALLKIT_OFFCPUTIME_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include "loader.h"
#include "loss_user.h"
#include "offcputime.h"
#include "rows.h"
#include "symbolizer.h"

struct offcpu_row {
	struct offcpu_key key;
	uint64_t count, total_ns; /* since the start */
	uint64_t mark_count, mark_total_ns; /* at the start of the report period */
	uint64_t max_ns; /* in the period */
	char comm[OFFCPU_COMM_LEN + 1];
};

struct offcpu_kept_stack {
	uint64_t hash; /* the key */
	bool read;     /* from the map (ips NULL if it was not there) */
	uint64_t *ips;
	size_t n;
};

/* The maps and globals of a skeleton whose BPF program includes bpf/offcpu.bpf.h */
struct offcpu_maps {
	struct bpf_map *counts;
	struct bpf_map *stacks;
	struct bpf_map *losses;
	volatile __u32 *epoch;
	__u64 *inferred_ends;
	struct bpf_map *new_entries;
	volatile __u32 *entries_unannounced;
};

#define OFFCPU_MAPS(skel)                                                                 \
	((struct offcpu_maps){ (skel)->maps.counts, (skel)->maps.stacks, (skel)->maps.losses, \
			       &(skel)->bss->epoch, &(skel)->bss->inferred_ends,          \
			       (skel)->maps.new_entries, &(skel)->bss->entries_unannounced })

struct offcpu_collector {
	struct offcpu_maps maps;
	const struct tp_hook *hook; /* its program's recursion misses are losses too (or NULL) */
	struct rows rows; /* of struct offcpu_row */
	struct losses losses;
	uint64_t inferred_ends; /* blocks whose switch-in the program missed (since the start) */
	size_t resolved_ahead; /* rows whose stacks were resolved during the session */
	struct rows stacks;    /* of struct offcpu_kept_stack: read from the map once */
	struct ring_buffer *rb; /* new entries come through it, with the tool's events */
};

/* The ring buffer of the processes bpf/offcpu.bpf.h announces (their first entry): sym notes
 * each while it lives.  NULL with a message on failure. */
struct ring_buffer *offcpu_new_processes(struct bpf_map *new_processes, struct symbolizer *sym);

/* rb: the tool's ring buffer, which the new entries are added to; 0, or -1 with a message */
int offcpu_collector_init(struct offcpu_collector *c, const struct offcpu_maps *maps,
			  const struct tp_hook *hook, struct ring_buffer *rb);
int offcpu_collector_harvest(struct offcpu_collector *c);
/* During the session, the rows of the entries created since the last call, so that their stacks
 * are resolved ahead: from the entries announced (no read of the map), or from the map when
 * some did not fit */
void offcpu_collector_take_new(struct offcpu_collector *c);
void offcpu_collector_mark(struct offcpu_collector *c);
void offcpu_collector_free(struct offcpu_collector *c);

/* The frames of a stored stack, kernel or user (a user stack may end with the unwinder's mark),
 * read from the map once: how many, 0 if unknown; *ips points into the collector */
size_t offcpu_stack(struct offcpu_collector *c, uint64_t hash, const uint64_t **ips);

/* Before load, with typed tasks: whether the kernel stack memo of bpf/kstack_memo.bpf.h can
 * work here, and if so its configuration */
bool offcpu_memo_configure(struct memo_config *mc, struct symbolizer *sym);

#endif
