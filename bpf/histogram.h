/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one latency bucket scheme of stallkit, shared by the BPF programs and userspace.
 *
 * Log-linear: values below 2^(HIST_SUB_BITS + 1) have a bucket each (exact); above, every
 * power-of-two range [2^e, 2^(e+1)) is cut into 2^HIST_SUB_BITS equal buckets.  A bucket is at
 * most 1/32 of its lower bound wide, so its midpoint is within 1/64 (1.6%) of any value in it.
 * Values of 2^(HIST_MAX_EXP + 1) ns (about 36 minutes) and more share the last bucket, whose
 * value userspace clamps to the exact maximum.
 */
#ifndef STALLKIT_HISTOGRAM_H
#define STALLKIT_HISTOGRAM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HIST_SUB_BITS	  5
#define HIST_SUB_BUCKETS  (1U << HIST_SUB_BITS)
#define HIST_LINEAR_LIMIT (2U * HIST_SUB_BUCKETS) /* 64: values below are exact */
#define HIST_FIRST_EXP	  (HIST_SUB_BITS + 1)	  /* 6: first log-linear range */
#define HIST_MAX_EXP	  40
#define HIST_BUCKETS	  (HIST_LINEAR_LIMIT + (HIST_MAX_EXP - HIST_FIRST_EXP + 1) * HIST_SUB_BUCKETS)

/* floor(log2(v)) for v > 0, without __builtin_clzll (which clang 14 cannot lower for BPF) */
static inline __u32 hist_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

static inline __u32 hist_bucket(__u64 v)
{
	__u32 e;

	if (v < HIST_LINEAR_LIMIT)
		return v;
	e = hist_log2(v);
	if (e > HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	return HIST_LINEAR_LIMIT + (e - HIST_FIRST_EXP) * HIST_SUB_BUCKETS +
	       ((v >> (e - HIST_SUB_BITS)) & (HIST_SUB_BUCKETS - 1));
}

#endif
