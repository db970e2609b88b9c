// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* table.c: exact rendering, alignment, display width of UTF-8 cells. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "table.h"

#define US "\xc2\xb5s" /* µs: 3 bytes, 2 columns */

static void check_table(const struct table *t, const char *expected)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);
	bool same;

	assert_non_null(f);
	table_print(t, f);
	assert_int_equal(fclose(f), 0);
	same = !strcmp(data, expected);
	if (!same)
		print_error("got:\n%sexpected:\n%s", data, expected);
	free(data);
	assert_true(same);
}

static void test_alignment(void **state)
{
	struct table t;

	(void)state;
	table_init(&t, "<COMM PID P50");
	assert_int_equal(t.ncols, 3);
	assert_string_equal(t.names[0], "COMM");
	assert_true(t.left[0]);
	assert_false(t.left[1]);
	table_cell(&t, "%s", "bash");
	table_cell(&t, "%d", 42);
	table_cell(&t, "1.00" US);
	table_cell(&t, "%s", "sshd-session");
	table_cell(&t, "%d", 1234);
	table_cell(&t, "%s", "50.1ms");
	/* "1.00µs" is 6 columns like "50.1ms": no extra padding for its 7 bytes */
	check_table(&t, "COMM           PID     P50\n"
			"bash            42  1.00" US "\n"
			"sshd-session  1234  50.1ms\n");
	table_free(&t);
	assert_null(t.cells);
	assert_int_equal(t.ncells, 0);
}

static void test_utf8_left_aligned(void **state)
{
	struct table t;

	(void)state;
	/* the last column, left-aligned, gets no trailing spaces */
	table_init(&t, "<UNIT <NAME");
	table_cell(&t, US);
	table_cell(&t, "micro");
	table_cell(&t, "%s", "sec");
	table_cell(&t, "%s", "s");
	table_cell(&t, "\xc2\xb5\xc2\xb5s");
	table_cell(&t, "%s", "");
	check_table(&t, "UNIT  NAME\n"
			"\xc2\xb5s    micro\n"
			"sec   s\n"
			"\xc2\xb5\xc2\xb5s   \n");
	table_free(&t);
}

static void test_partial_last_row(void **state)
{
	struct table t;

	(void)state;
	table_init(&t, "A B");
	table_cell(&t, "1");
	table_cell(&t, "22");
	table_cell(&t, "333");
	check_table(&t, "  A   B\n"
			"  1  22\n"
			"333\n");
	table_free(&t);
}

static void test_header_only(void **state)
{
	struct table t;

	(void)state;
	table_init(&t, "<NAME COUNT");
	check_table(&t, "NAME  COUNT\n");
	table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_utf8_left_aligned),
		cmocka_unit_test(test_partial_last_row),
		cmocka_unit_test(test_header_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
