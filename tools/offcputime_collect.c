// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include "maps.h"
#include "util.h"
#include "offcputime_collect.h"

/* A process got its first entry: note its mappings while it lives */
static int note_process(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(__u32))
		symbolizer_note_process_once(ctx, *(const __u32 *)data);
	return 0;
}

struct ring_buffer *offcpu_new_processes(struct bpf_map *new_processes, struct symbolizer *sym)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(new_processes), note_process, sym,
						  NULL);

	if (!rb)
		warn("setting up the ring buffer of new processes");
	return rb;
}

/* An entry was created: its row, counted at the next harvest */
static int note_entry(void *ctx, void *data, size_t size)
{
	struct offcpu_collector *c = ctx;

	if (size >= sizeof(struct offcpu_key))
		rows_get(&c->rows, data);
	return 0;
}

int offcpu_collector_init(struct offcpu_collector *c, const struct offcpu_maps *maps,
			  const struct tp_hook *hook, struct ring_buffer *rb)
{
	memset(c, 0, sizeof(*c));
	c->maps = *maps;
	c->hook = hook;
	c->rb = rb;
	rows_init(&c->rows, sizeof(struct offcpu_key), sizeof(struct offcpu_row));
	rows_init(&c->stacks, sizeof(uint64_t), sizeof(struct offcpu_kept_stack));
	if (ring_buffer__add(rb, bpf_map__fd(maps->new_entries), note_entry, c)) {
		warn("setting up the ring buffer of new entries");
		return -1;
	}
	return 0;
}

int offcpu_collector_harvest(struct offcpu_collector *c)
{
	uint32_t epoch = *c->maps.epoch;
	struct offcpu_key *keys;
	struct offcpu_value *values;
	long n = map_dump(c->maps.counts, (void **)&keys, (void **)&values);

	losses_read(c->maps.losses, &c->losses);
	/* a switch the program did not run for loses a block, or merges two */
	c->losses.recursion_misses = c->hook ? loader_recursion_misses(c->hook, 1) : 0;
	c->inferred_ends = *c->maps.inferred_ends;
	if (n < 0) {
		warnx("reading the BPF maps failed");
		return -1;
	}
	for (long i = 0; i < n; i++) {
		struct offcpu_row *r = rows_get(&c->rows, &keys[i]);

		if (!r)
			break;
		r->count = values[i].count;
		r->total_ns = values[i].total_ns;
		r->max_ns = values[i].max_epoch == epoch ? values[i].max_ns : 0;
		if (!r->comm[0])
			memcpy(r->comm, values[i].comm, OFFCPU_COMM_LEN);
	}
	free(keys);
	free(values);
	return 0;
}

void offcpu_collector_take_new(struct offcpu_collector *c)
{
	ring_buffer__consume(c->rb);
	if (*c->maps.entries_unannounced) {
		*c->maps.entries_unannounced = 0; /* before the map is read */
		offcpu_collector_harvest(c);
	}
}

void offcpu_collector_mark(struct offcpu_collector *c)
{
	for (size_t i = 0; i < c->rows.n; i++) {
		struct offcpu_row *r = c->rows.at[i];

		r->mark_count = r->count;
		r->mark_total_ns = r->total_ns;
		r->max_ns = 0;
	}
	(*c->maps.epoch)++;
}

/* Kept once read: every entry of a thread shares its stacks, and the report asks again for
 * what was resolved during the session (a system call per stack saved after Ctrl-C) */
size_t offcpu_stack(struct offcpu_collector *c, uint64_t hash, const uint64_t **ips)
{
	struct offcpu_kept_stack *kept;
	struct stack_frames frames;
	size_t n = 0;

	if (!hash || !(kept = rows_get(&c->stacks, &hash)))
		return 0;
	if (!kept->read) {
		kept->read = true;
		if (bpf_map__lookup_elem(c->maps.stacks, &hash, sizeof(hash), &frames,
					 sizeof(frames), 0))
			return 0;
		while (n < STACK_MAX_DEPTH && frames.ips[n])
			n++;
		kept->ips = malloc(n * sizeof(*kept->ips));
		if (!kept->ips)
			return 0;
		memcpy(kept->ips, frames.ips, n * sizeof(*kept->ips));
		kept->n = n;
	}
	*ips = kept->ips;
	return kept->n;
}

static void free_kept_stack(void *row)
{
	free(((struct offcpu_kept_stack *)row)->ips);
}

void offcpu_collector_free(struct offcpu_collector *c)
{
	rows_free(&c->rows, NULL);
	rows_free(&c->stacks, free_kept_stack);
}

/* The syscall entry functions, below which each syscall shifts the stack at random: what the
 * kernel stack memo needs to know (bpf/kstack_memo.bpf.h).  False if none is found. */
static bool syscall_entries(struct memo_config *mc, struct symbolizer *sym)
{
	static const char *const names[] = { "do_syscall_64", "do_int80_syscall_32",
					     "do_fast_syscall_32", "do_int80_emulation" };
	uint64_t start, end;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(names) && n < MEMO_ENTRIES; i++) {
		if (symbolizer_kernel_function(sym, names[i], &start, &end)) {
			mc->entry_start[n] = start;
			mc->entry_end[n++] = end;
		}
	}
	return n > 0;
}

bool offcpu_memo_configure(struct memo_config *mc, struct symbolizer *sym)
{
	return helper_available(BPF_FUNC_loop) && helper_available(BPF_FUNC_task_pt_regs) &&
	       syscall_entries(mc, sym);
}
