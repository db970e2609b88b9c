// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* units.c: durations with three significant digits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "units.h"

#define US "\xc2\xb5s" /* µs */

static void test_format_duration(void **state)
{
	static const struct {
		uint64_t ns;
		const char *s;
	} cases[] = {
		{ 0, "0ns" },
		{ 1, "1ns" },
		{ 999, "999ns" },
		{ 1000, "1.00" US },
		{ 1234, "1.23" US },
		{ 9994, "9.99" US },
		{ 9995, "10.0" US },
		{ 12345, "12.3" US },
		{ 99949, "99.9" US },
		{ 99950, "100" US },
		{ 999499, "999" US },
		{ 999500, "1.00ms" },
		{ 1000000, "1.00ms" },
		{ 50100000, "50.1ms" },
		{ 999499999, "999ms" },
		{ 999500000, "1.00s" },
		{ 2000000000, "2.00s" },
		{ 59000000000ULL, "59.0s" },
		{ 3600000000000ULL, "3600s" },
		{ 1000000000000ULL, "1000s" },
		{ UINT64_MAX, "18446744074s" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ptr_equal(format_duration(buf, sizeof(buf), cases[i].ns), buf);
		if (strcmp(buf, cases[i].s))
			fail_msg("format_duration(%llu) = \"%s\", expected \"%s\"",
				 (unsigned long long)cases[i].ns, buf, cases[i].s);
	}
}

static void test_format_duration_truncates(void **state)
{
	char buf[8] = "xxxxxxx";

	(void)state;
	format_duration(buf, 5, 1234);
	assert_string_equal(buf, "1.23");
	/* nothing written past the 5 bytes it was given */
	assert_int_equal(buf[5], 'x');
	assert_int_equal(buf[6], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_duration_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
