/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Userspace side of the shared log-linear histogram (bpf/histogram.h): percentiles, printing. */
#ifndef STALLKIT_HISTOGRAM_USER_H
#define STALLKIT_HISTOGRAM_USER_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include "histogram.h"

/* A non-empty bucket; arrays of bins are sorted by bucket. */
struct hist_bin {
	uint32_t bucket;
	uint64_t count;
};

uint64_t hist_bucket_low(uint32_t bucket);
uint64_t hist_bucket_width(uint32_t bucket);

/* The non-empty buckets of a dense array, in order; out must hold HIST_BUCKETS bins. */
size_t hist_bins_from_dense(const uint64_t *dense, struct hist_bin *out);

/*
 * The p-th percentile (0 < p <= 100) by nearest rank, as the midpoint of the bucket holding that
 * rank, clamped to the exact minimum and maximum: within 1.6% of the exact value.  0 when the
 * histogram is empty.
 */
uint64_t hist_percentile(const struct hist_bin *bins, size_t n, double p, uint64_t min,
			 uint64_t max);

/* Power-of-two ranges with bars, as BCC's tools print them, in human time units. */
void hist_print_log2(FILE *out, const struct hist_bin *bins, size_t n, const char *indent);

#endif
