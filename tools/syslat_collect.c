// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include "fdinfo.h"
#include "maps.h"
#include "procfs.h"
#include "syslat_collect.h"

struct syslat_slot_acc {
	uint32_t *last_raw; /* possible_cpus() * HIST_BUCKETS: the values read last time */
	uint64_t dense[HIST_BUCKETS];
};

int collector_init(struct syslat_collector *c, struct syslat_bpf *skel)
{
	memset(c, 0, sizeof(*c));
	c->skel = skel;
	rows_init(&c->rows, sizeof(struct syslat_key), sizeof(struct syslat_row));
	c->keyed = skel->rodata->syslat_cfg.key_by != 0;
	c->nslots = c->keyed ? 0 : skel->rodata->syslat_cfg.nslots;
	c->slots = calloc(c->nslots + 1, sizeof(*c->slots));
	if (!c->slots)
		return -1;
	for (uint32_t i = 0; i < c->nslots; i++) {
		c->slots[i].last_raw = calloc((size_t)possible_cpus() * HIST_BUCKETS,
					      sizeof(uint32_t));
		if (!c->slots[i].last_raw)
			return -1;
	}
	return 0;
}

/* A row is described the first time it is harvested: the process may be gone by the report.
 * The names noted by BPF when the row began come first; /proc has the rest. */
static void describe_row(struct syslat_row *r, uint32_t key_by)
{
	if (!r->comm[0] && (r->key.pid || r->key.tid))
		proc_comm(r->key.tid ? r->key.tid : r->key.pid, r->comm, sizeof(r->comm));
	if ((key_by & SYSLAT_BY_FD) && r->key.file.fd != SYSLAT_NO_FD)
		fd_describe_inode(r->key.pid, r->key.file.fd, r->key.file.ino, r->key.file.mode,
				  &r->sock, r->fd_desc, sizeof(r->fd_desc));
	r->described = true;
}

static int bins_append(struct syslat_row *r, uint32_t bin, uint64_t count)
{
	if (r->nbins == r->bins_cap) {
		size_t cap = r->bins_cap ? r->bins_cap * 2 : 16;
		struct syslat_bin *grown = realloc(r->bins, cap * sizeof(*grown));

		if (!grown)
			return -1;
		r->bins = grown;
		r->bins_cap = cap;
	}
	r->bins[r->nbins++] = (struct syslat_bin){ .bin = bin, .count = count };
	return 0;
}

static int bin_compare(const void *a, const void *b)
{
	uint32_t x = ((const struct syslat_bin *)a)->bin, y = ((const struct syslat_bin *)b)->bin;

	return x < y ? -1 : x > y;
}

static void counts_add_cpu(struct syslat_row *r, const struct syslat_stats *st, uint32_t epoch)
{
	if (st->comm[0] && (!r->comm[0] || !strcmp(r->comm, "?")))
		memcpy(r->comm, st->comm, sizeof(st->comm));
	if (st->sock.family && !r->sock.family)
		r->sock = st->sock;
	r->now.count += st->count;
	r->now.total_ns += st->total_ns;
	r->now.errors += st->errors;
	if (st->max_epoch != epoch || !st->count)
		return;
	if (st->max_ns > r->max_ns)
		r->max_ns = st->max_ns;
	if (!r->min_ns || st->min_ns < r->min_ns)
		r->min_ns = st->min_ns;
}

static void row_reset_now(struct syslat_row *r)
{
	memset(&r->now, 0, sizeof(r->now));
	r->max_ns = r->min_ns = 0;
	r->nbins = 0;
}

/* Default mode: the per-CPU slots of the per-syscall array */
static int harvest_slots(struct syslat_collector *c, uint32_t epoch)
{
	int ncpu = possible_cpus();
	size_t stride = (sizeof(struct syslat_slot) + 7) & ~(size_t)7;
	char *values = malloc(stride * ncpu);
	const __u32 *slot_of = c->skel->bss->slot_of;

	if (!values)
		return -1;
	for (uint32_t nr = 0; nr < SYSLAT_MAX_NR; nr++) {
		uint32_t slot = slot_of[nr], index = slot - 1;
		struct syslat_key key = { .nr = nr, .file.fd = SYSLAT_NO_FD };
		struct syslat_slot_acc *acc;
		struct syslat_row *r;

		if (!slot || slot > c->nslots)
			continue;
		if (bpf_map__lookup_elem(c->skel->maps.slots, &index, sizeof(index), values,
					 stride * ncpu, 0))
			continue;
		acc = &c->slots[index];
		r = rows_get(&c->rows, &key);
		if (!r)
			goto nomem;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			const struct syslat_slot *s = (const void *)(values + cpu * stride);
			uint32_t *last = acc->last_raw + (size_t)cpu * HIST_BUCKETS;

			counts_add_cpu(r, &s->stats, epoch);
			for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
				/* modular difference: right across a 32-bit wrap */
				acc->dense[b] += (uint32_t)(s->buckets[b] - last[b]);
				last[b] = s->buckets[b];
			}
		}
		for (uint32_t b = 0; b < HIST_BUCKETS; b++)
			if (acc->dense[b] && bins_append(r, b, acc->dense[b]))
				goto nomem;
	}
	free(values);
	return 0;
nomem:
	free(values);
	return -1;
}

/* Keyed modes: the per-CPU hash of rows */
static int harvest_rows(struct syslat_collector *c, uint32_t epoch)
{
	size_t stride = (sizeof(struct syslat_stats) + 7) & ~(size_t)7;
	struct syslat_key *keys;
	char *values;
	long n = map_dump(c->skel->maps.rows, (void **)&keys, (void **)&values);

	if (n < 0)
		return -1;
	for (long i = 0; i < n; i++) {
		struct syslat_row *r = rows_get(&c->rows, &keys[i]);

		if (!r)
			break;
		for (int cpu = 0; cpu < possible_cpus(); cpu++)
			counts_add_cpu(r, (const void *)(values + ((size_t)i * possible_cpus() + cpu) *
								  stride),
				       epoch);
	}
	free(keys);
	free(values);
	return 0;
}

/* Both modes: the sparse counters (errnos; buckets in keyed mode) */
static int harvest_bins(struct syslat_collector *c)
{
	struct syslat_bin_key *keys;
	uint64_t *values;
	long n = map_dump(c->skel->maps.bins, (void **)&keys, (void **)&values);

	if (n < 0)
		return -1;
	for (long i = 0; i < n; i++) {
		struct syslat_row *r = rows_get(&c->rows, &keys[i].row);
		uint64_t sum = 0;

		if (!r)
			break;
		for (int cpu = 0; cpu < possible_cpus(); cpu++)
			sum += values[(size_t)i * possible_cpus() + cpu];
		if (bins_append(r, keys[i].bin, sum))
			break;
	}
	free(keys);
	free(values);
	return 0;
}

int collector_harvest(struct syslat_collector *c)
{
	uint32_t epoch = c->skel->bss->epoch;
	int err;

	for (size_t i = 0; i < c->rows.n; i++)
		row_reset_now(c->rows.at[i]);
	err = c->keyed ? harvest_rows(c, epoch) : harvest_slots(c, epoch);
	if (!err)
		err = harvest_bins(c);
	for (size_t i = 0; i < c->rows.n; i++) {
		struct syslat_row *r = c->rows.at[i];

		if (r->nbins)
			qsort(r->bins, r->nbins, sizeof(struct syslat_bin),
			      bin_compare);
		if (!r->described)
			describe_row(r, c->skel->rodata->syslat_cfg.key_by);
	}
	losses_read(c->skel->maps.losses, &c->losses);
	if (err)
		warnx("reading the BPF maps failed");
	return err;
}

void collector_mark(struct syslat_collector *c)
{
	for (size_t i = 0; i < c->rows.n; i++) {
		struct syslat_row *r = c->rows.at[i];
		struct syslat_bin *copy = malloc((r->nbins + 1) * sizeof(*copy));

		if (!copy)
			continue;
		if (r->nbins)
			memcpy(copy, r->bins, r->nbins * sizeof(*copy));
		free(r->mark_bins);
		r->mark_bins = copy;
		r->nmark_bins = r->nbins;
		r->mark = r->now;
		r->max_ns = r->min_ns = 0;
	}
	/* the BPF side restarts its maxima when it sees a new epoch */
	c->skel->bss->epoch++;
}

struct syslat_counts row_period(const struct syslat_row *r)
{
	return (struct syslat_counts){
		.count = r->now.count - r->mark.count,
		.total_ns = r->now.total_ns - r->mark.total_ns,
		.errors = r->now.errors - r->mark.errors,
	};
}

/* Period counts of the errno bins or of the bucket bins: a merge of the two sorted lists */
static size_t period_bins(const struct syslat_row *r, bool errnos, struct syslat_bin *out)
{
	size_t n = 0, m = 0;

	for (size_t i = 0; i < r->nbins; i++) {
		const struct syslat_bin *b = &r->bins[i];
		uint64_t before = 0;

		if (!!(b->bin & SYSLAT_BIN_ERRNO) != errnos)
			continue;
		while (m < r->nmark_bins && r->mark_bins[m].bin < b->bin)
			m++;
		if (m < r->nmark_bins && r->mark_bins[m].bin == b->bin)
			before = r->mark_bins[m].count;
		if (b->count > before)
			out[n++] = (struct syslat_bin){ .bin = b->bin, .count = b->count - before };
	}
	return n;
}

size_t row_period_buckets(const struct syslat_row *r, struct hist_bin **out)
{
	struct syslat_bin *tmp = malloc((r->nbins + 1) * sizeof(*tmp));
	size_t n;

	*out = malloc((r->nbins + 1) * sizeof(**out));
	if (!tmp || !*out) {
		free(tmp);
		free(*out);
		*out = NULL;
		return 0;
	}
	n = period_bins(r, false, tmp);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = (struct hist_bin){ .bucket = tmp[i].bin, .count = tmp[i].count };
	free(tmp);
	return n;
}

static int count_descending(const void *a, const void *b)
{
	uint64_t x = ((const struct syslat_bin *)a)->count, y = ((const struct syslat_bin *)b)->count;

	return x < y ? 1 : x > y ? -1 : 0;
}

size_t row_period_errnos(const struct syslat_row *r, struct syslat_bin **out)
{
	size_t n;

	*out = malloc((r->nbins + 1) * sizeof(**out));
	if (!*out)
		return 0;
	n = period_bins(r, true, *out);
	for (size_t i = 0; i < n; i++)
		(*out)[i].bin &= ~SYSLAT_BIN_ERRNO;
	if (n)
		qsort(*out, n, sizeof(**out), count_descending);
	return n;
}

static void free_row_parts(void *row)
{
	struct syslat_row *r = row;

	free(r->bins);
	free(r->mark_bins);
}

void collector_free(struct syslat_collector *c)
{
	rows_free(&c->rows, free_row_parts);
	for (uint32_t i = 0; i < c->nslots; i++)
		free(c->slots[i].last_raw);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}
