/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * syslat: the rows of the report, collected from the BPF maps.  A harvest reads the maps into
 * cumulative per-row counts (per-CPU 32-bit buckets are accumulated as wrap-safe deltas); a
 * mark starts a new report period (-i) without touching the maps, so nothing is lost to a
 * reset race.
 */
#ifndef STALLKIT_SYSLAT_COLLECT_H
#define STALLKIT_SYSLAT_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include "histogram_user.h"
#include "loss_user.h"
#include "rows.h"
#include "syslat.h"
#include "syslat.skel.h"

struct syslat_counts {
	uint64_t count;
	uint64_t total_ns;
	uint64_t errors;
};

/* A counter of a row: a histogram bucket or (SYSLAT_BIN_ERRNO | errno), and how many */
struct syslat_bin {
	uint32_t bin;
	uint64_t count;
};

struct syslat_row {
	struct syslat_key key;
	struct syslat_counts now;  /* since the start */
	struct syslat_counts mark; /* at the start of the report period */
	uint64_t max_ns;	   /* in the report period */
	uint64_t min_ns;
	struct syslat_bin *bins;   /* since the start, sorted by bin */
	size_t nbins, bins_cap;
	struct syslat_bin *mark_bins;
	size_t nmark_bins;
	char comm[SYSLAT_COMM_LEN + 1];
	struct sock_info sock; /* noted by BPF when the row began, if it is a socket's */
	char fd_desc[192];
	bool described;
};

struct syslat_slot_acc; /* per-slot accumulation of the 32-bit per-CPU buckets */

struct syslat_collector {
	struct syslat_bpf *skel;
	bool keyed;
	struct rows rows; /* of struct syslat_row */
	struct syslat_slot_acc *slots;
	uint32_t nslots;
	struct losses losses;
	uint64_t period_start_ns;
};

int collector_init(struct syslat_collector *c, struct syslat_bpf *skel);
/* Reads the maps: 0 or -1 (message printed). */
int collector_harvest(struct syslat_collector *c);
/* Starts a new report period. */
void collector_mark(struct syslat_collector *c);
void collector_free(struct syslat_collector *c);

/* What a row counted in the report period */
struct syslat_counts row_period(const struct syslat_row *r);
/* Histogram buckets (no errnos) of the period, in bucket order; *out is malloc'ed. */
size_t row_period_buckets(const struct syslat_row *r, struct hist_bin **out);
/* Errno counts of the period as (errno, count), most frequent first; *out is malloc'ed. */
size_t row_period_errnos(const struct syslat_row *r, struct syslat_bin **out);

#endif
