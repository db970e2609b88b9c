// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <string.h>
#include "histogram_user.h"
#include "units.h"

uint64_t hist_bucket_low(uint32_t bucket)
{
	uint32_t exp, sub;

	if (bucket < HIST_LINEAR_LIMIT)
		return bucket;
	exp = HIST_FIRST_EXP + (bucket - HIST_LINEAR_LIMIT) / HIST_SUB_BUCKETS;
	sub = (bucket - HIST_LINEAR_LIMIT) % HIST_SUB_BUCKETS;
	return (uint64_t)(HIST_SUB_BUCKETS + sub) << (exp - HIST_SUB_BITS);
}

uint64_t hist_bucket_width(uint32_t bucket)
{
	if (bucket < HIST_LINEAR_LIMIT)
		return 1;
	return 1ULL << (HIST_FIRST_EXP + (bucket - HIST_LINEAR_LIMIT) / HIST_SUB_BUCKETS -
			HIST_SUB_BITS);
}

size_t hist_bins_from_dense(const uint64_t *dense, struct hist_bin *out)
{
	size_t n = 0;

	for (uint32_t b = 0; b < HIST_BUCKETS; b++)
		if (dense[b])
			out[n++] = (struct hist_bin){ .bucket = b, .count = dense[b] };
	return n;
}

uint64_t hist_percentile(const struct hist_bin *bins, size_t n, double p, uint64_t min,
			 uint64_t max)
{
	/* p in millionths of 100%: p is decimal (99.9) and inexact in binary, so the rank is
	 * computed in integers (99.9 / 100 * 1000 would be 999.0000000000001 and round up) */
	unsigned __int128 ppm = llround(p * 10000);
	uint64_t count = 0, rank, seen = 0;

	for (size_t i = 0; i < n; i++)
		count += bins[i].count;
	if (!count)
		return 0;
	/* nearest rank: the smallest value with at least p% of the values at or below it */
	rank = (count * ppm + 999999) / 1000000;
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < n; i++) {
		seen += bins[i].count;
		if (seen >= rank) {
			uint64_t v = hist_bucket_low(bins[i].bucket) +
				     hist_bucket_width(bins[i].bucket) / 2;

			return v > max ? max : v < min ? min : v;
		}
	}
	return max;
}

void hist_print_log2(FILE *out, const struct hist_bin *bins, size_t n, const char *indent)
{
	uint64_t slots[65] = { 0 }, peak = 0;
	int first = 64, last = 0;

	/* bucket b lies inside [2^k, 2^(k+1)) for k = floor(log2(low)) */
	for (size_t i = 0; i < n; i++) {
		uint64_t low = hist_bucket_low(bins[i].bucket);
		int k = low ? 63 - __builtin_clzll(low) + 1 : 0;

		slots[k] += bins[i].count;
		if (k < first)
			first = k;
		if (k > last)
			last = k;
	}
	for (int k = first; k <= last; k++)
		if (slots[k] > peak)
			peak = slots[k];
	if (!peak)
		return;
	fprintf(out, "%s%20s : %-10s %s\n", indent, "latency", "count", "distribution");
	for (int k = first; k <= last; k++) {
		char lo[16], hi[16], bar[41];
		uint64_t from = k ? 1ULL << (k - 1) : 0, to = k ? (1ULL << k) - 1 : 0;
		int len = (int)(slots[k] * 40 / peak);

		format_duration(lo, sizeof(lo), from);
		format_duration(hi, sizeof(hi), to);
		memset(bar, '*', len);
		bar[len] = '\0';
		/* printf pads by bytes; "µs" is two bytes in one column */
		fprintf(out, "%s%*s%s -> %s%*s : %-10llu |%-40s|\n", indent,
			(int)(8 - text_width(lo)), "", lo, hi, (int)(8 - text_width(hi)), "",
			(unsigned long long)slots[k], bar);
	}
}
