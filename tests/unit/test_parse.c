// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* parse.c: strict numbers, durations with units, ID lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "parse.h"
#include "util.h"

#define SENTINEL     0xdeadbeefULL

static void test_parse_u64_valid(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} cases[] = {
		{ "0", 0 },
		{ "1", 1 },
		{ "42", 42 },
		{ "010", 10 }, /* decimal, not octal */
		{ "4294967296", 4294967296ULL },
		{ "18446744073709551615", UINT64_MAX },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t v = SENTINEL;

		assert_int_equal(parse_u64(cases[i].s, &v), 0);
		assert_int_equal(v, cases[i].v);
	}
}

static void test_parse_u64_invalid(void **state)
{
	static const char *const cases[] = {
		"12abc",
		"",
		"-3",
		" 1",
		"1 ",
		"+1",
		"0x10",
		"1.0",
		"abc",
		"18446744073709551616",
		"99999999999999999999999",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t v = SENTINEL;

		if (parse_u64(cases[i], &v) != -EINVAL)
			fail_msg("parse_u64(\"%s\") accepted", cases[i]);
		assert_int_equal(v, SENTINEL);
	}
	assert_int_equal(parse_u64(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_parse_duration_units(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} cases[] = {
		{ "0", 0 },
		{ "0s", 0 },
		{ "100ns", 100 },
		{ "500us", 500 * NSEC_PER_USEC },
		{ "500\xc2\xb5s", 500 * NSEC_PER_USEC }, /* µs */
		{ "250ms", 250 * NSEC_PER_MSEC },
		{ "2s", 2 * NSEC_PER_SEC },
		{ "2m", 120 * NSEC_PER_SEC },
		{ "2min", 120 * NSEC_PER_SEC },
		{ "1h", 3600 * NSEC_PER_SEC },
		{ "1.5s", 1500000000 },
		{ "0.5ms", 500000 },
		{ "1.25us", 1250 },
		{ "0.1s", 100000000 },
		{ "2.5h", 9000 * NSEC_PER_SEC },
		{ "7d", 7 * 86400 * NSEC_PER_SEC },
		{ "007ms", 7 * NSEC_PER_MSEC },
		/* beyond INT64_MAX but within uint64_t */
		{ "10000000000s", 10000000000000000000ULL },
		{ "18446744073s", 18446744073000000000ULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t ns = SENTINEL;

		if (parse_duration(cases[i].s, NSEC_PER_SEC, &ns))
			fail_msg("parse_duration(\"%s\") rejected", cases[i].s);
		if (ns != cases[i].ns)
			fail_msg("parse_duration(\"%s\") = %llu, expected %llu", cases[i].s,
				 (unsigned long long)ns, (unsigned long long)cases[i].ns);
	}
}

static void test_parse_duration_default_unit(void **state)
{
	uint64_t ns = SENTINEL;

	(void)state;
	assert_int_equal(parse_duration("250", NSEC_PER_MSEC, &ns), 0);
	assert_int_equal(ns, 250 * NSEC_PER_MSEC);
	assert_int_equal(parse_duration("3", 1, &ns), 0);
	assert_int_equal(ns, 3);
	assert_int_equal(parse_duration("1.5", NSEC_PER_SEC, &ns), 0);
	assert_int_equal(ns, 1500000000);
	assert_int_equal(parse_duration("20", NSEC_PER_USEC, &ns), 0);
	assert_int_equal(ns, 20000);
	/* an explicit unit wins over the default */
	assert_int_equal(parse_duration("20ns", NSEC_PER_SEC, &ns), 0);
	assert_int_equal(ns, 20);
}

static void test_parse_duration_invalid(void **state)
{
	static const char *const cases[] = {
		"1.s",
		".5s",
		"5x",
		"5 s",
		"",
		"s",
		"ms",
		"-1s",
		" 5s",
		"5s ",
		"1.2.3s",
		"1e3s",
		"1e3",
		"0x5s",
		"5S",
		"5sec",
		"5mins",
		"5\xb5s",
		"inf",
		"nan",
		"1,5s",
		"18446744074s",
		"18446744073709551616ns",
		"1000000000000h",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t ns = SENTINEL;

		if (parse_duration(cases[i], NSEC_PER_MSEC, &ns) != -EINVAL)
			fail_msg("parse_duration(\"%s\") accepted (%llu)", cases[i],
				 (unsigned long long)ns);
		assert_int_equal(ns, SENTINEL);
	}
	assert_int_equal(parse_duration(NULL, 1, &(uint64_t){ 0 }), -EINVAL);
}

static void test_parse_percent(void **state)
{
	static const struct {
		const char *s;
		double pct; /* 0: rejected */
	} cases[] = {
		{ "2%", 2 },   { "2", 2 },	 { "0.5%", 0.5 }, { "100%", 100 }, { "0.01", 0.01 },
		{ "0%", 0 },   { "100.5%", 0 }, { "-1%", 0 },    { "2%%", 0 },	 { "2 %", 0 },
		{ "", 0 },     { "%", 0 },	 { "two", 0 },	  { "2x", 0 },	 { "nan", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		double pct = -1;
		int ret = parse_percent(cases[i].s, &pct);

		if (cases[i].pct == 0 && (ret == 0 || pct != -1))
			fail_msg("parse_percent(\"%s\") accepted", cases[i].s);
		if (cases[i].pct != 0 && (ret != 0 || pct != cases[i].pct))
			fail_msg("parse_percent(\"%s\") = %g, expected %g", cases[i].s, pct,
				 cases[i].pct);
	}
}

static void assert_ids(const struct id_list *list, const pid_t *ids, size_t len)
{
	assert_int_equal(list->len, len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(list->ids[i], ids[i]);
}

static void test_id_list_single_and_lists(void **state)
{
	struct id_list list = { 0 };

	(void)state;
	assert_int_equal(parse_id_list("1234", &list), 0);
	assert_ids(&list, (pid_t[]){ 1234 }, 1);
	id_list_free(&list);
	assert_null(list.ids);
	assert_int_equal(list.len, 0);

	assert_int_equal(parse_id_list("3,1,2", &list), 0);
	assert_ids(&list, (pid_t[]){ 3, 1, 2 }, 3);
	assert_true(id_list_contains(&list, 1));
	assert_true(id_list_contains(&list, 3));
	assert_false(id_list_contains(&list, 4));
	id_list_free(&list);

	assert_int_equal(parse_id_list("2147483647", &list), 0);
	assert_ids(&list, (pid_t[]){ 2147483647 }, 1);
	id_list_free(&list);
}

static void test_id_list_duplicates_and_accumulation(void **state)
{
	struct id_list list = { 0 };

	(void)state;
	assert_int_equal(parse_id_list("5,5,6,5", &list), 0);
	assert_ids(&list, (pid_t[]){ 5, 6 }, 2);
	/* repeated options accumulate, still without duplicates */
	assert_int_equal(parse_id_list("6,7", &list), 0);
	assert_ids(&list, (pid_t[]){ 5, 6, 7 }, 3);
	assert_int_equal(parse_id_list("5", &list), 0);
	assert_ids(&list, (pid_t[]){ 5, 6, 7 }, 3);
	assert_int_equal(parse_id_list("100", &list), 0);
	assert_ids(&list, (pid_t[]){ 5, 6, 7, 100 }, 4);
	id_list_free(&list);
}

static void test_id_list_invalid_leaves_list(void **state)
{
	static const char *const cases[] = {
		"1,,2",
		"1,",
		",1",
		",",
		"0",
		"abc",
		"2147483648",
		"",
		"-1",
		"1, 2",
		" 1",
		"9,0",
		"9,abc",
		"9,2147483648",
		"99999999999999999999999999",
	};
	struct id_list list = { 0 };

	(void)state;
	assert_int_equal(parse_id_list("7,8", &list), 0);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (parse_id_list(cases[i], &list) != -EINVAL)
			fail_msg("parse_id_list(\"%s\") accepted", cases[i]);
		/* a failing parse adds nothing, not even the valid items before the bad one */
		assert_ids(&list, (pid_t[]){ 7, 8 }, 2);
		assert_false(id_list_contains(&list, 9));
	}
	id_list_free(&list);

	/* on an empty list too */
	assert_int_equal(parse_id_list("1,0", &list), -EINVAL);
	assert_int_equal(list.len, 0);
	id_list_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64_valid),
		cmocka_unit_test(test_parse_u64_invalid),
		cmocka_unit_test(test_parse_duration_units),
		cmocka_unit_test(test_parse_duration_default_unit),
		cmocka_unit_test(test_parse_duration_invalid),
		cmocka_unit_test(test_parse_percent),
		cmocka_unit_test(test_id_list_single_and_lists),
		cmocka_unit_test(test_id_list_duplicates_and_accumulation),
		cmocka_unit_test(test_id_list_invalid_leaves_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
