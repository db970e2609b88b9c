// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* unwind_space.c: runs of the unwinder's rows array taken first fit and given back merged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "unwind_space.h"

static void test_first_fit_and_full(void **state)
{
	struct unwind_space s;

	(void)state;
	assert_int_equal(unwind_space_init(&s, 100), 0);
	assert_int_equal(unwind_space_take(&s, 40), 0);
	assert_int_equal(unwind_space_take(&s, 40), 40);
	assert_int_equal(unwind_space_take(&s, 21), -1);
	assert_int_equal(unwind_space_take(&s, 20), 80);
	assert_int_equal(s.used, 100);
	assert_int_equal(unwind_space_take(&s, 1), -1);
	unwind_space_free(&s);
}

static void test_given_back_runs_merge(void **state)
{
	struct unwind_space s;

	(void)state;
	assert_int_equal(unwind_space_init(&s, 100), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(unwind_space_take(&s, 20), 20 * i);
	unwind_space_give(&s, 20, 20);
	unwind_space_give(&s, 60, 20);
	assert_int_equal(s.n, 2);
	assert_int_equal(unwind_space_take(&s, 30), -1); /* two runs of 20: none of 30 */
	unwind_space_give(&s, 40, 20);			  /* joins both neighbours */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.free[0].start, 20);
	assert_int_equal(s.free[0].len, 60);
	assert_int_equal(unwind_space_take(&s, 60), 20);
	unwind_space_give(&s, 0, 20); /* before the first run: none free, a run of its own */
	unwind_space_give(&s, 80, 20);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.used, 60);
	unwind_space_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_fit_and_full),
		cmocka_unit_test(test_given_back_runs_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
