// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* errnos.c and the table generated from the kernel headers, against <errno.h>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "errnos.h"
#include "libc_names.h"
#include "util.h"

#define SENTINEL     -12345

static const struct {
	const char *name;
	int value;
} known[] = {
	{ "EPERM", EPERM },
	{ "ENOENT", ENOENT },
	{ "EINTR", EINTR },
	{ "EBADF", EBADF },
	{ "EAGAIN", EAGAIN },
	{ "ENOMEM", ENOMEM },
	{ "EACCES", EACCES },
	{ "EFAULT", EFAULT },
	{ "EINVAL", EINVAL },
	{ "EPIPE", EPIPE },
	{ "EDEADLK", EDEADLK },
	{ "ENOSYS", ENOSYS },
	{ "ENOTSOCK", ENOTSOCK },
	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "ECONNREFUSED", ECONNREFUSED },
	{ "ETIMEDOUT", ETIMEDOUT },
	{ "EINPROGRESS", EINPROGRESS },
	{ "ECANCELED", ECANCELED },
	{ "EHWPOISON", EHWPOISON },
};

static void test_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(known); i++) {
		const char *name = errno_name(known[i].value);

		assert_non_null(name);
		assert_string_equal(name, known[i].name);
	}
	/* the alias is accepted, never printed */
	assert_string_equal(errno_name(EWOULDBLOCK), "EAGAIN");
	assert_string_equal(errno_name(EDEADLOCK), "EDEADLK");
	/* the kernel's restart codes */
	assert_string_equal(errno_name(512), "ERESTARTSYS");
	assert_string_equal(errno_name(513), "ERESTARTNOINTR");
	assert_string_equal(errno_name(514), "ERESTARTNOHAND");
	assert_string_equal(errno_name(516), "ERESTART_RESTARTBLOCK");
	assert_null(errno_name(0));
	assert_null(errno_name(-EBADF));
	assert_null(errno_name(511));
	assert_null(errno_name(5000));
}

static int lookup_ok(const char *s)
{
	int v = SENTINEL;

	if (errno_lookup(s, &v))
		fail_msg("errno_lookup(\"%s\") failed", s);
	return v;
}

static void test_lookup(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		assert_int_equal(lookup_ok(known[i].name), known[i].value);
	assert_int_equal(lookup_ok("EAGAIN"), EAGAIN);
	assert_int_equal(lookup_ok("EWOULDBLOCK"), EAGAIN);
	assert_int_equal(lookup_ok("EDEADLOCK"), EDEADLK);
	assert_int_equal(lookup_ok("ERESTARTSYS"), 512);
	assert_int_equal(lookup_ok("ERESTART_RESTARTBLOCK"), 516);
	assert_int_equal(lookup_ok("9"), EBADF);
	assert_int_equal(lookup_ok("512"), 512);
}

static void test_lookup_rejects(void **state)
{
	static const char *const cases[] = {
		"0",
		"5000",
		"4096",
		"EFOO",
		"",
		"E",
		"ebadf",
		"EBADF ",
		" 9",
		"-9",
		"9x",
		"EBADF9",
		"18446744073709551625",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int v = SENTINEL;

		if (errno_lookup(cases[i], &v) != -ENOENT)
			fail_msg("errno_lookup(\"%s\") accepted (%d)", cases[i], v);
		assert_int_equal(v, SENTINEL);
	}
}

/* every name of the table is found, every value is named by its first non-alias name */
static void test_table_round_trip(void **state)
{
	unsigned int aliases = 0;

	(void)state;
	assert_true(errno_names_len > 120);
	for (unsigned int i = 0; i < errno_names_len; i++) {
		const char *name = errno_names[i].name;
		const char *back = errno_name(errno_names[i].value);
		char buf[16];

		assert_int_equal(lookup_ok(name), errno_names[i].value);
		assert_non_null(back);
		if (errno_names[i].alias)
			aliases++;
		else
			assert_string_equal(back, name);
		snprintf(buf, sizeof(buf), "%d", errno_names[i].value);
		assert_int_equal(lookup_ok(buf), errno_names[i].value);
	}
	assert_true(aliases >= 2); /* EWOULDBLOCK, EDEADLOCK */
}

/* every errno of the C library's <errno.h> is known by its name, with the compiler's value, and
 * that value is named */
static void test_every_libc_errno(void **state)
{
	(void)state;
	assert_true(ARRAY_LEN(libc_errnos) > 120);
	for (size_t i = 0; i < ARRAY_LEN(libc_errnos); i++) {
		const char *name = libc_errnos[i].name;
		const char *back = errno_name(libc_errnos[i].value);

		if (strcmp(name, "ENOTSUP") != 0) /* the C library's alias of EOPNOTSUPP */
			assert_int_equal(lookup_ok(name), libc_errnos[i].value);
		if (back == NULL)
			fail_msg("%s (%ld) has no name", name, libc_errnos[i].value);
		assert_int_equal(lookup_ok(back), libc_errnos[i].value);
	}
}

/* every entry of the table, but the kernel's restart codes, is the C library's with its value */
static void test_table_against_libc(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < errno_names_len; i++) {
		size_t j = 0;

		if (errno_names[i].value >= 512)
			continue;
		while (j < ARRAY_LEN(libc_errnos) && strcmp(libc_errnos[j].name, errno_names[i].name))
			j++;
		if (j == ARRAY_LEN(libc_errnos))
			fail_msg("%s is not in <errno.h>", errno_names[i].name);
		assert_int_equal(errno_names[i].value, libc_errnos[j].value);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_libc_errno),
		cmocka_unit_test(test_table_against_libc),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_rejects),
		cmocka_unit_test(test_table_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
