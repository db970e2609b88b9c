// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* json.c: exact output of the streaming writer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json.h"

struct capture {
	char *data;
	size_t len;
	FILE *f;
	struct json j;
};

static void capture_open(struct capture *c)
{
	c->data = NULL;
	c->len = 0;
	c->f = open_memstream(&c->data, &c->len);
	assert_non_null(c->f);
	json_init(&c->j, c->f);
}

static void capture_check(struct capture *c, const char *expected)
{
	bool same;

	assert_int_equal(fclose(c->f), 0);
	same = !strcmp(c->data, expected);
	if (!same)
		print_error("got      \"%s\"\nexpected \"%s\"\n", c->data, expected);
	free(c->data);
	assert_true(same);
}

/* one string value, top level */
static void check_string(const char *value, const char *expected)
{
	struct capture c;

	capture_open(&c);
	json_str(&c.j, NULL, value);
	capture_check(&c, expected);
}

static void test_nesting_and_commas(void **state)
{
	struct capture c;

	(void)state;
	capture_open(&c);
	json_object_begin(&c.j, NULL);
	json_u64(&c.j, "a", 1);
	json_object_begin(&c.j, "b");
	json_array_begin(&c.j, "c");
	json_u64(&c.j, NULL, 1);
	json_i64(&c.j, NULL, -2);
	json_bool(&c.j, NULL, true);
	json_str(&c.j, NULL, NULL);
	json_object_begin(&c.j, NULL);
	json_object_end(&c.j);
	json_array_begin(&c.j, NULL);
	json_array_end(&c.j);
	json_object_begin(&c.j, NULL);
	json_str(&c.j, "x", "y");
	json_object_end(&c.j);
	json_array_end(&c.j);
	json_object_end(&c.j);
	json_bool(&c.j, "d", false);
	json_array_begin(&c.j, "e");
	json_array_end(&c.j);
	json_object_end(&c.j);
	json_line_end(&c.j);
	capture_check(&c, "{\"a\":1,\"b\":{\"c\":[1,-2,true,null,{},[],{\"x\":\"y\"}]},"
			  "\"d\":false,\"e\":[]}\n");
}

static void test_integer_limits(void **state)
{
	struct capture c;

	(void)state;
	capture_open(&c);
	json_array_begin(&c.j, NULL);
	json_u64(&c.j, NULL, 0);
	json_u64(&c.j, NULL, UINT64_MAX);
	json_i64(&c.j, NULL, INT64_MIN);
	json_i64(&c.j, NULL, INT64_MAX);
	json_array_end(&c.j);
	capture_check(&c, "[0,18446744073709551615,-9223372036854775808,9223372036854775807]");
}

static void test_escaping(void **state)
{
	struct capture c;

	(void)state;
	check_string("", "\"\"");
	check_string("plain / text", "\"plain / text\"");
	check_string("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_string("l1\nl2\tt\rr", "\"l1\\nl2\\tt\\rr\"");
	check_string("\x01\x1f\x7f\b\f", "\"\\u0001\\u001f\\u007f\\u0008\\u000c\"");
	/* keys are escaped too */
	capture_open(&c);
	json_object_begin(&c.j, NULL);
	json_u64(&c.j, "k\"\n", 1);
	json_object_end(&c.j);
	capture_check(&c, "{\"k\\\"\\n\":1}");
}

static void test_utf8_valid_kept(void **state)
{
	(void)state;
	check_string("50.1\xc2\xb5s", "\"50.1\xc2\xb5s\"");		  /* µ */
	check_string("caf\xc3\xa9", "\"caf\xc3\xa9\"");			  /* é */
	check_string("\xe2\x82\xac", "\"\xe2\x82\xac\"");		  /* € */
	check_string("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");		  /* U+D7FF */
	check_string("\xee\x80\x80", "\"\xee\x80\x80\"");		  /* U+E000 */
	check_string("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");	  /* U+1F600 */
	check_string("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");	  /* U+10FFFF */
	check_string("\xef\xbf\xbf\xc2\x80", "\"\xef\xbf\xbf\xc2\x80\""); /* U+FFFF U+80 */
}

/* every byte that is not part of a valid sequence becomes one U+FFFD */
static void test_utf8_invalid_replaced(void **state)
{
	(void)state;
	check_string("\xff", "\"\\ufffd\"");
	check_string("a\x80z", "\"a\\ufffdz\"");	  /* lone continuation byte */
	check_string("\xc3(", "\"\\ufffd(\"");		  /* lead byte without continuation */
	check_string("x\xe2\x82", "\"x\\ufffd\\ufffd\""); /* truncated at the end */
	check_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");	  /* overlong '/' */
	check_string("\xc1\xbf", "\"\\ufffd\\ufffd\"");	  /* overlong */
	check_string("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");	      /* overlong '/' */
	check_string("\xe0\x9f\xbf", "\"\\ufffd\\ufffd\\ufffd\"");	      /* overlong U+7FF */
	check_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	      /* surrogate U+D800 */
	check_string("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"");	      /* surrogate U+DFFF */
	check_string("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* overlong */
	check_string("\xf0\x8f\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* overlong */
	check_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	check_string("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_string("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\""); /* truncated */
	check_string("\xf0\x9f\x98z\xc2\xb5", "\"\\ufffd\\ufffd\\ufffdz\xc2\xb5\"");
}

static void test_line_end_resets(void **state)
{
	struct capture c;

	(void)state;
	/* a value left open (an error path) must not leak into the next line */
	capture_open(&c);
	json_object_begin(&c.j, NULL);
	json_u64(&c.j, "a", 1);
	json_array_begin(&c.j, "b");
	json_u64(&c.j, NULL, 2);
	json_line_end(&c.j);
	json_object_begin(&c.j, NULL);
	json_u64(&c.j, "c", 3);
	json_object_end(&c.j);
	json_line_end(&c.j);
	json_array_begin(&c.j, NULL);
	json_array_end(&c.j);
	json_line_end(&c.j);
	capture_check(&c, "{\"a\":1,\"b\":[2\n{\"c\":3}\n[]\n");
}

static void test_doubles(void **state)
{
	struct capture c;

	(void)state;
	capture_open(&c);
	json_object_begin(&c.j, NULL);
	json_double(&c.j, "a", 1.5);
	json_double(&c.j, "b", 0.1);
	json_double(&c.j, "c", -2.25);
	json_double(&c.j, "d", 0);
	json_double(&c.j, "e", 123456789.0);
	json_double(&c.j, "f", 1e20);
	json_double(&c.j, "g", NAN);
	json_double(&c.j, "h", INFINITY);
	json_double(&c.j, "i", -INFINITY);
	json_double(&c.j, "j", 99.9);
	json_object_end(&c.j);
	capture_check(&c, "{\"a\":1.5,\"b\":0.1,\"c\":-2.25,\"d\":0,\"e\":1.23457e+08,"
			  "\"f\":1e+20,\"g\":null,\"h\":null,\"i\":null,\"j\":99.9}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_integer_limits),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_utf8_valid_kept),
		cmocka_unit_test(test_utf8_invalid_replaced),
		cmocka_unit_test(test_line_end_resets),
		cmocka_unit_test(test_doubles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
