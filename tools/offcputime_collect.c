// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include "maps.h"
#include "offcputime_collect.h"

void offcpu_collector_init(struct offcpu_collector *c, struct offcputime_bpf *skel,
			   const struct tp_hook *hook)
{
	memset(c, 0, sizeof(*c));
	c->skel = skel;
	c->hook = hook;
	rows_init(&c->rows, sizeof(struct offcpu_key), sizeof(struct offcpu_row));
	rows_init(&c->stacks, sizeof(uint64_t), sizeof(struct offcpu_kept_stack));
}

int offcpu_collector_harvest(struct offcpu_collector *c)
{
	uint32_t epoch = c->skel->bss->epoch;
	struct offcpu_key *keys;
	struct offcpu_value *values;
	long n = map_dump(c->skel->maps.counts, (void **)&keys, (void **)&values);

	losses_read(c->skel->maps.losses, &c->losses);
	/* a switch the program did not run for loses a block, or merges two */
	c->losses.recursion_misses = loader_recursion_misses(c->hook, 1);
	c->inferred_ends = c->skel->bss->inferred_ends;
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

void offcpu_collector_mark(struct offcpu_collector *c)
{
	for (size_t i = 0; i < c->rows.n; i++) {
		struct offcpu_row *r = c->rows.at[i];

		r->mark_count = r->count;
		r->mark_total_ns = r->total_ns;
		r->max_ns = 0;
	}
	c->skel->bss->epoch++;
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
		if (bpf_map__lookup_elem(c->skel->maps.stacks, &hash, sizeof(hash), &frames,
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
