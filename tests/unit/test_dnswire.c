// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dnsblock's reading of DNS questions, and the names of results. */
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "dnsblock.h"
#include "dnsblock_wire.h"

/* www.example.com, type AAAA, class IN: as a query carries it */
static const uint8_t www_example_aaaa[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
					    3, 'c', 'o', 'm', 0, 0, 28, 0, 1 };

static void test_question(void **state)
{
	char name[DNS_NAME_LEN];
	uint16_t type = 0;

	(void)state;
	assert_int_equal(dns_question_decode(www_example_aaaa, sizeof(www_example_aaaa), name,
					     sizeof(name), &type), 0);
	assert_string_equal(name, "www.example.com");
	assert_int_equal(type, 28);
	/* the root */
	assert_int_equal(dns_question_decode((const uint8_t[]){ 0, 0, 2 }, 3, name, sizeof(name),
					     &type), 0);
	assert_string_equal(name, ".");
	assert_int_equal(type, 2);
}

static void test_question_malformed(void **state)
{
	char name[DNS_NAME_LEN];
	uint16_t type;

	(void)state;
	/* cut short: in a label, before the type, empty */
	assert_int_equal(dns_question_decode(www_example_aaaa, 6, name, sizeof(name), &type), -1);
	assert_int_equal(dns_question_decode(www_example_aaaa, 17, name, sizeof(name), &type), -1);
	assert_int_equal(dns_question_decode(www_example_aaaa, 0, name, sizeof(name), &type), -1);
	/* a compression pointer has no place in a question */
	assert_int_equal(dns_question_decode((const uint8_t[]){ 0xc0, 12, 0, 1 }, 4, name,
					     sizeof(name), &type), -1);
}

static void test_question_truncates_name(void **state)
{
	char name[8];
	uint16_t type;

	(void)state;
	assert_int_equal(dns_question_decode(www_example_aaaa, sizeof(www_example_aaaa), name,
					     sizeof(name), &type), 0);
	assert_string_equal(name, "www.exa");
	assert_int_equal(type, 28);
}

static void test_names(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(dns_type_name(1, buf, sizeof(buf)), "A");
	assert_string_equal(dns_type_name(28, buf, sizeof(buf)), "AAAA");
	assert_string_equal(dns_type_name(4242, buf, sizeof(buf)), "TYPE4242");
	assert_string_equal(dns_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
	assert_string_equal(dns_rcode_name(2, buf, sizeof(buf)), "SERVFAIL");
	assert_string_equal(dns_rcode_name(12, buf, sizeof(buf)), "RCODE12");
	assert_string_equal(eai_name(EAI_NONAME, buf, sizeof(buf)), "EAI_NONAME");
	assert_string_equal(eai_name(EAI_AGAIN, buf, sizeof(buf)), "EAI_AGAIN");
	assert_string_equal(eai_name(-999, buf, sizeof(buf)), "EAI_-999");
	assert_string_equal(herrno_name(HOST_NOT_FOUND, buf, sizeof(buf)), "HOST_NOT_FOUND");
	assert_string_equal(herrno_name(TRY_AGAIN, buf, sizeof(buf)), "TRY_AGAIN");
	assert_string_equal(dns_api_name(DNS_API_GETHOSTBYNAME2_R), "gethostbyname2_r");
	assert_string_equal(dns_api_name(DNS_API_RES_NQUERYDOMAIN), "res_nquerydomain");
	assert_string_equal(dns_api_name(-1), "wire");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_question),
		cmocka_unit_test(test_question_malformed),
		cmocka_unit_test(test_question_truncates_name),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
