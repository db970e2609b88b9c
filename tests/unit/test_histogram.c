// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The log-linear buckets of bpf/histogram.h and the percentiles of histogram.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "histogram_user.h"
#include "util.h"

#define LAST_BUCKET  (HIST_BUCKETS - 1)
#define USEC	     1000ULL
#define MSEC	     1000000ULL
#define SEC	     1000000000ULL

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 0..4096, and every power of two up to 2^45 with its neighbours, sorted */
static size_t sweep_values(uint64_t *v)
{
	size_t n = 0;

	for (uint64_t x = 0; x <= 4096; x++)
		v[n++] = x;
	for (int k = 0; k <= 45; k++)
		for (int64_t d = -2; d <= 2; d++)
			if ((int64_t)(1ULL << k) + d >= 0)
				v[n++] = (1ULL << k) + d;
	qsort(v, n, sizeof(*v), cmp_u64);
	return n;
}

static void test_bucket_monotonic_and_bounds(void **state)
{
	static uint64_t v[4097 + 46 * 5];
	size_t n = sweep_values(v);
	uint32_t prev = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		uint32_t b = hist_bucket(v[i]);
		uint64_t low = hist_bucket_low(b), width = hist_bucket_width(b);

		if (b < prev)
			fail_msg("hist_bucket(%llu) = %u < %u of a smaller value",
				 (unsigned long long)v[i], b, prev);
		prev = b;
		assert_true(b < HIST_BUCKETS);
		assert_true(v[i] >= low);
		if (b != LAST_BUCKET && v[i] >= low + width)
			fail_msg("%llu beyond bucket %u [%llu, %llu)", (unsigned long long)v[i], b,
				 (unsigned long long)low, (unsigned long long)(low + width));
		if (v[i] < HIST_LINEAR_LIMIT) {
			assert_int_equal(b, v[i]);
			assert_int_equal(width, 1);
		}
	}
	/* the sweep reaches the overflow bucket */
	assert_int_equal(hist_bucket(1ULL << 45), LAST_BUCKET);
	assert_int_equal(hist_bucket(UINT64_MAX), LAST_BUCKET);
	assert_int_equal(hist_bucket((1ULL << (HIST_MAX_EXP + 1)) - 1), LAST_BUCKET);
	assert_int_equal(
		hist_bucket((1ULL << (HIST_MAX_EXP + 1)) - hist_bucket_width(LAST_BUCKET) - 1),
		LAST_BUCKET - 1);
}

/* buckets tile the line: each starts where the previous ends and holds its own bounds */
static void test_bucket_tiling_and_width(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket_low(0), 0);
	for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
		uint64_t low = hist_bucket_low(b), width = hist_bucket_width(b);

		assert_true(width >= 1);
		assert_int_equal(hist_bucket(low), b);
		if (b != LAST_BUCKET) {
			assert_int_equal(hist_bucket(low + width - 1), b);
			assert_int_equal(hist_bucket_low(b + 1), low + width);
		}
		if (b >= HIST_LINEAR_LIMIT && width * 32 > low)
			fail_msg("bucket %u: width %llu > low %llu / 32", b,
				 (unsigned long long)width, (unsigned long long)low);
	}
}

static void test_bins_from_dense(void **state)
{
	static uint64_t dense[HIST_BUCKETS];
	static struct hist_bin bins[HIST_BUCKETS];
	size_t n;

	(void)state;
	memset(dense, 0, sizeof(dense));
	assert_int_equal(hist_bins_from_dense(dense, bins), 0);
	dense[LAST_BUCKET] = 4;
	dense[3] = 1;
	dense[700] = 2;
	n = hist_bins_from_dense(dense, bins);
	assert_int_equal(n, 3);
	assert_int_equal(bins[0].bucket, 3);
	assert_int_equal(bins[0].count, 1);
	assert_int_equal(bins[1].bucket, 700);
	assert_int_equal(bins[1].count, 2);
	assert_int_equal(bins[2].bucket, LAST_BUCKET);
	assert_int_equal(bins[2].count, 4);
}

/* splitmix64: a fixed seed gives the same datasets everywhere */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in (0, 1) */
static double rng_unit(void)
{
	return ((rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static uint64_t rng_range(uint64_t lo, uint64_t hi)
{
	return lo + rng_next() % (hi - lo + 1);
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());
}

enum dataset { UNIFORM, LOGNORMAL, BIMODAL, ALL_EQUAL, SINGLE, NEAR_50MS, HEAVY_TAIL, SMALL };

static const struct {
	const char *name;
	size_t n;
} datasets[] = {
	[UNIFORM] = { "uniform 1us..10ms", 10000 },
	[LOGNORMAL] = { "log-normal", 5000 },
	[BIMODAL] = { "bimodal", 2001 },
	[ALL_EQUAL] = { "all equal", 1000 },
	[SINGLE] = { "single sample", 1 },
	[NEAR_50MS] = { "20 x ~50.1ms", 20 },
	[HEAVY_TAIL] = { "heavy tail to 100s", 1000 },
	[SMALL] = { "small values", 1000 },
};

static uint64_t sample(enum dataset d, size_t i)
{
	double x;

	switch (d) {
	case UNIFORM:
		return rng_range(USEC, 10 * MSEC);
	case LOGNORMAL:
		x = exp(log(100.0 * USEC) + 1.5 * rng_normal());
		return x < 1 ? 1 : x > 1e12 ? 1000000000000ULL : (uint64_t)x;
	case BIMODAL:
		return i % 2 ? rng_range(18 * USEC, 22 * USEC)
			     : rng_range(4500 * USEC, 5500 * USEC);
	case ALL_EQUAL:
		return 123456;
	case SINGLE:
		return 777777;
	case NEAR_50MS:
		return rng_range(50050 * USEC, 50150 * USEC);
	case HEAVY_TAIL:
		/* Pareto, alpha 1.1, from 10us; the largest is 100s */
		if (i == 0)
			return 100 * SEC;
		x = 10.0 * USEC / pow(rng_unit(), 1 / 1.1);
		return x > 100.0 * SEC ? 100 * SEC : (uint64_t)x;
	case SMALL:
		return rng_range(0, 200);
	}
	return 0;
}

/* the exact nearest rank percentile, p in tenths of a percent */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, unsigned int p_tenths)
{
	uint64_t rank = ((uint64_t)p_tenths * n + 999) / 1000;

	return sorted[(rank ? rank : 1) - 1];
}

static void test_percentiles_against_exact(void **state)
{
	static const unsigned int ps[] = { 500, 900, 990, 999, 1000 };
	static uint64_t data[10000], dense[HIST_BUCKETS];
	static struct hist_bin bins[HIST_BUCKETS];

	(void)state;
	rng_state = 20240601;
	for (size_t d = 0; d < ARRAY_LEN(datasets); d++) {
		size_t n = datasets[d].n, nbins;

		assert_true(n <= ARRAY_LEN(data));
		memset(dense, 0, sizeof(dense));
		for (size_t i = 0; i < n; i++) {
			data[i] = sample(d, i);
			dense[hist_bucket(data[i])]++;
		}
		qsort(data, n, sizeof(*data), cmp_u64);
		nbins = hist_bins_from_dense(dense, bins);
		for (size_t i = 0; i < ARRAY_LEN(ps); i++) {
			uint64_t exact = exact_percentile(data, n, ps[i]);
			uint64_t got =
				hist_percentile(bins, nbins, ps[i] / 10.0, data[0], data[n - 1]);
			uint64_t err = got > exact ? got - exact : exact - got;

			/* within 2%: err / exact <= 1 / 50 */
			if (err * 50 > exact)
				fail_msg("%s (n=%zu): p%g = %llu, exact %llu (%.2f%%)",
					 datasets[d].name, n, ps[i] / 10.0, (unsigned long long)got,
					 (unsigned long long)exact,
					 exact ? 100.0 * err / exact : 100.0);
			assert_true(got >= data[0] && got <= data[n - 1]);
		}
	}
}

/* p99.9 of 1000 samples is the 999th: 999 * 0.1% = 0.999 < 1 of the 1000 is above it */
static void test_percentile_rank_exact_multiple(void **state)
{
	struct hist_bin bins[] = {
		{ hist_bucket(1000), 999 },
		{ hist_bucket(5 * SEC), 1 },
	};
	struct hist_bin bins2[] = {
		{ hist_bucket(1000), 9990 },
		{ hist_bucket(5 * SEC), 10 },
	};
	uint64_t p;

	(void)state;
	p = hist_percentile(bins, 2, 99.9, 1000, 5 * SEC);
	assert_in_range(p, 980, 1020);
	assert_int_equal(hist_percentile(bins, 2, 100, 1000, 5 * SEC), 5 * SEC);
	assert_in_range(hist_percentile(bins2, 2, 99.9, 1000, 5 * SEC), 980, 1020);
	assert_int_equal(hist_percentile(bins2, 2, 99.91, 1000, 5 * SEC), 5 * SEC);
	/* p50 of 2 samples is the first, of 3 the second */
	assert_int_equal(
		hist_percentile((struct hist_bin[]){ { 10, 1 }, { 20, 1 } }, 2, 50, 10, 20), 10);
	assert_int_equal(hist_percentile((struct hist_bin[]){ { 10, 1 }, { 20, 1 }, { 30, 1 } }, 3,
					 50, 10, 30),
			 20);
}

static void test_percentile_empty(void **state)
{
	struct hist_bin zero[] = { { 100, 0 }, { 200, 0 } };

	(void)state;
	assert_int_equal(hist_percentile(NULL, 0, 50, 0, 0), 0);
	assert_int_equal(hist_percentile(zero, 0, 99, 5, 10), 0);
	assert_int_equal(hist_percentile(zero, ARRAY_LEN(zero), 99, 5, 10), 0);
}

static void test_percentile_clamped(void **state)
{
	uint64_t v = 1000001, big = 3000 * SEC; /* 50 minutes: in the overflow bucket */
	uint32_t b = hist_bucket(v);
	uint64_t mid = hist_bucket_low(b) + hist_bucket_width(b) / 2;
	struct hist_bin one[] = { { b, 1 } };
	struct hist_bin over[] = { { hist_bucket(big), 3 } };

	(void)state;
	/* the midpoint is not the value, so the clamping is what makes it exact */
	assert_true(mid > v);
	assert_int_equal(hist_percentile(one, 1, 50, v, v), v);
	assert_int_equal(hist_percentile(one, 1, 99.9, v, v), v);
	/* clamped from below: all samples at the top of their bucket */
	assert_int_equal(hist_percentile(one, 1, 50, mid + 7, mid + 7), mid + 7);
	assert_int_equal(hist_bucket(big), LAST_BUCKET);
	assert_int_equal(hist_percentile(over, 1, 50, big, big), big);
	/* unclamped: the midpoint */
	assert_int_equal(hist_percentile(one, 1, 50, 0, UINT64_MAX), mid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_monotonic_and_bounds),
		cmocka_unit_test(test_bucket_tiling_and_width),
		cmocka_unit_test(test_bins_from_dense),
		cmocka_unit_test(test_percentiles_against_exact),
		cmocka_unit_test(test_percentile_rank_exact_multiple),
		cmocka_unit_test(test_percentile_empty),
		cmocka_unit_test(test_percentile_clamped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
