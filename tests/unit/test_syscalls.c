// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* syscalls.c and the table generated from the kernel headers, against <sys/syscall.h>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include "syscalls.h"
#include "util.h"
#include "libc_names.h"

#define SENTINEL 0xdeadbeefU

static unsigned int lookup_ok(const char *s)
{
	unsigned int nr = SENTINEL;

	if (syscall_lookup(s, &nr))
		fail_msg("syscall_lookup(\"%s\") failed", s);
	return nr;
}

static void test_lookup_names(void **state)
{
	(void)state;
#ifdef __x86_64__
	assert_int_equal(lookup_ok("read"), 0);
	assert_int_equal(lookup_ok("poll"), 7);
	assert_int_equal(lookup_ok("exit_group"), 231);
#endif
	assert_int_equal(lookup_ok("read"), SYS_read);
	assert_int_equal(lookup_ok("write"), SYS_write);
	assert_int_equal(lookup_ok("openat"), SYS_openat);
	assert_int_equal(lookup_ok("futex"), SYS_futex);
	assert_int_equal(lookup_ok("epoll_pwait"), SYS_epoll_pwait);
	assert_int_equal(lookup_ok("exit"), SYS_exit);
	assert_int_equal(lookup_ok("exit_group"), SYS_exit_group);
#ifdef SYS_poll
	assert_int_equal(lookup_ok("poll"), SYS_poll);
#endif
#ifdef SYS_epoll_wait
	assert_int_equal(lookup_ok("epoll_wait"), SYS_epoll_wait);
#endif
}

static void test_lookup_numbers(void **state)
{
	char buf[16];

	(void)state;
#ifdef __x86_64__
	assert_int_equal(lookup_ok("7"), 7);
	assert_int_equal(lookup_ok("0"), 0);
#endif
	snprintf(buf, sizeof(buf), "%d", SYS_openat);
	assert_int_equal(lookup_ok(buf), SYS_openat);
	snprintf(buf, sizeof(buf), "%d", SYS_read);
	assert_int_equal(lookup_ok(buf), SYS_read);
}

static void test_lookup_rejects(void **state)
{
	static const char *const cases[] = {
		"",
		"pol",
		"POLL",
		"read ",
		" read",
		"sys_read",
		"__NR_read",
		"7a",
		"-1",
		"99999",
		"4294967296",
		"4294967303",
		"18446744073709551616",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int nr = SENTINEL;

		if (syscall_lookup(cases[i], &nr) != -ENOENT)
			fail_msg("syscall_lookup(\"%s\") accepted (%u)", cases[i], nr);
		assert_int_equal(nr, SENTINEL);
	}
	assert_null(syscall_name(99999));
	assert_null(syscall_name(SENTINEL));
}

/* name -> nr -> name for every entry: no duplicate numbers, no unreachable names */
static void test_table_round_trip(void **state)
{
	(void)state;
	assert_true(syscall_names_len > 200);
	for (unsigned int i = 0; i < syscall_names_len; i++) {
		const char *name = syscall_names[i].name;
		const char *back;
		unsigned int nr = lookup_ok(name);
		char buf[16];

		assert_int_equal(nr, syscall_names[i].nr);
		back = syscall_name(nr);
		assert_non_null(back);
		assert_string_equal(back, name);
		snprintf(buf, sizeof(buf), "%u", nr);
		assert_int_equal(lookup_ok(buf), nr);
	}
}

static bool suggested(const char *unknown, const char *name, size_t max)
{
	const char *out[16];
	size_t n = syscall_suggest(unknown, out, max);

	assert_true(n <= max);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(out[i], name))
			return true;
	return false;
}

static void test_suggest(void **state)
{
	const char *out[4];

	(void)state;
#ifdef SYS_poll
	assert_true(suggested("pol", "poll", 8));
#endif
#ifdef SYS_epoll_wait
	assert_true(suggested("epol_wait", "epoll_wait", 8));
#endif
	assert_true(suggested("opnat", "openat", 8));
	assert_true(suggested("futx", "futex", 8));
	/* best first: an exact name is at distance 0 */
	assert_int_equal(syscall_suggest("openat", out, 1), 1);
	assert_string_equal(out[0], "openat");
	assert_int_equal(syscall_suggest("zzzzzzzzzzzz", out, 4), 0);
	assert_int_equal(syscall_suggest("read", out, 0), 0);
}

static void test_never_returns(void **state)
{
	(void)state;
	assert_true(syscall_never_returns(SYS_exit));
	assert_true(syscall_never_returns(SYS_exit_group));
	assert_false(syscall_never_returns(SYS_read));
	assert_false(syscall_never_returns(99999));
	for (unsigned int i = 0; i < syscall_names_len; i++) {
		const char *name = syscall_names[i].name;
		bool exits = !strcmp(name, "exit") || !strcmp(name, "exit_group");

		if (syscall_never_returns(syscall_names[i].nr) != exits)
			fail_msg("syscall_never_returns(%s) is %d", name, !exits);
	}
}

/* every syscall of the C library's <sys/syscall.h> is known by its name, with the compiler's
 * number, and that number is named so */
static void test_every_libc_syscall(void **state)
{
	(void)state;
	assert_true(ARRAY_LEN(libc_syscalls) > 300);
	for (size_t i = 0; i < ARRAY_LEN(libc_syscalls); i++) {
		const char *name = syscall_name(libc_syscalls[i].value);

		assert_int_equal(lookup_ok(libc_syscalls[i].name), libc_syscalls[i].value);
		if (name == NULL || strcmp(name, libc_syscalls[i].name) != 0)
			fail_msg("syscall %ld is named %s, not %s", libc_syscalls[i].value,
				 name ? name : "(null)", libc_syscalls[i].name);
	}
}

/* every entry of the table is the C library's, with its number */
static void test_table_against_libc(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < syscall_names_len; i++) {
		size_t j = 0;

		while (j < ARRAY_LEN(libc_syscalls) &&
		       strcmp(libc_syscalls[j].name, syscall_names[i].name))
			j++;
		if (j == ARRAY_LEN(libc_syscalls))
			fail_msg("%s is not in <sys/syscall.h>", syscall_names[i].name);
		assert_int_equal(syscall_names[i].nr, libc_syscalls[j].value);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_libc_syscall),
		cmocka_unit_test(test_table_against_libc),
		cmocka_unit_test(test_lookup_names),   cmocka_unit_test(test_lookup_numbers),
		cmocka_unit_test(test_lookup_rejects), cmocka_unit_test(test_table_round_trip),
		cmocka_unit_test(test_suggest),	       cmocka_unit_test(test_never_returns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
