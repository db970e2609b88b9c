// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include "dnsblock.h"
#include "dnsblock_wire.h"
#include "util.h"

#define DNS_LABEL_MAX 63

int dns_question_decode(const uint8_t *q, size_t len, char *name, size_t name_len,
			uint16_t *qtype)
{
	size_t at = 0, out = 0;

	if (!name_len)
		return -1;
	for (;;) {
		uint8_t label;

		if (at >= len)
			return -1;
		label = q[at++];
		if (!label)
			break;
		if (label > DNS_LABEL_MAX || at + label > len)
			return -1; /* a compression pointer, or cut short */
		if (out && out < name_len - 1)
			name[out++] = '.';
		for (uint8_t i = 0; i < label && out < name_len - 1; i++)
			name[out++] = q[at + i];
		at += label;
	}
	if (!out && name_len > 1)
		name[out++] = '.';
	name[out] = '\0';
	if (at + 2 > len)
		return -1;
	*qtype = (uint16_t)(q[at] << 8 | q[at + 1]);
	return 0;
}

struct code_name {
	int code;
	const char *name;
};

static const char *lookup(const struct code_name *t, size_t n, int code, const char *prefix,
			  char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	snprintf(buf, len, "%s%d", prefix, code);
	return buf;
}

const char *dns_type_name(uint16_t type, char *buf, size_t len)
{
	static const struct code_name types[] = {
		{ 1, "A" },	 { 2, "NS" },	{ 5, "CNAME" },	 { 6, "SOA" },	  { 12, "PTR" },
		{ 15, "MX" },	 { 16, "TXT" }, { 28, "AAAA" },	 { 33, "SRV" },	  { 35, "NAPTR" },
		{ 43, "DS" },	 { 48, "DNSKEY" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" },
	};

	return lookup(types, ARRAY_LEN(types), type, "TYPE", buf, len);
}

const char *dns_rcode_name(int rcode, char *buf, size_t len)
{
	static const struct code_name rcodes[] = {
		{ 0, "NOERROR" }, { 1, "FORMERR" },  { 2, "SERVFAIL" }, { 3, "NXDOMAIN" },
		{ 4, "NOTIMP" },  { 5, "REFUSED" },  { 6, "YXDOMAIN" }, { 7, "YXRRSET" },
		{ 8, "NXRRSET" }, { 9, "NOTAUTH" },  { 10, "NOTZONE" },
	};

	return lookup(rcodes, ARRAY_LEN(rcodes), rcode, "RCODE", buf, len);
}

const char *dns_api_name(int api)
{
	static const char *const names[DNS_API_COUNT] = {
		[DNS_API_GETADDRINFO] = "getaddrinfo",
		[DNS_API_GETHOSTBYNAME] = "gethostbyname",
		[DNS_API_GETHOSTBYNAME2] = "gethostbyname2",
		[DNS_API_GETHOSTBYNAME_R] = "gethostbyname_r",
		[DNS_API_GETHOSTBYNAME2_R] = "gethostbyname2_r",
		[DNS_API_GETNAMEINFO] = "getnameinfo",
		[DNS_API_RES_QUERY] = "res_query",
		[DNS_API_RES_SEARCH] = "res_search",
		[DNS_API_RES_QUERYDOMAIN] = "res_querydomain",
		[DNS_API_RES_NQUERY] = "res_nquery",
		[DNS_API_RES_NSEARCH] = "res_nsearch",
		[DNS_API_RES_NQUERYDOMAIN] = "res_nquerydomain",
	};

	return api >= 0 && api < DNS_API_COUNT ? names[api] : "wire";
}

const char *eai_name(int code, char *buf, size_t len)
{
	static const struct code_name eais[] = {
		{ EAI_BADFLAGS, "EAI_BADFLAGS" }, { EAI_NONAME, "EAI_NONAME" },
		{ EAI_AGAIN, "EAI_AGAIN" },	  { EAI_FAIL, "EAI_FAIL" },
		{ EAI_FAMILY, "EAI_FAMILY" },	  { EAI_SOCKTYPE, "EAI_SOCKTYPE" },
		{ EAI_SERVICE, "EAI_SERVICE" },	  { EAI_MEMORY, "EAI_MEMORY" },
		{ EAI_SYSTEM, "EAI_SYSTEM" },	  { EAI_OVERFLOW, "EAI_OVERFLOW" },
#ifdef EAI_NODATA
		{ EAI_NODATA, "EAI_NODATA" },	  { EAI_ADDRFAMILY, "EAI_ADDRFAMILY" },
#endif
	};

	return lookup(eais, ARRAY_LEN(eais), code, "EAI_", buf, len);
}

const char *herrno_name(int code, char *buf, size_t len)
{
	static const struct code_name herrnos[] = {
		{ HOST_NOT_FOUND, "HOST_NOT_FOUND" }, { TRY_AGAIN, "TRY_AGAIN" },
		{ NO_RECOVERY, "NO_RECOVERY" },	      { NO_DATA, "NO_DATA" },
	};

	return lookup(herrnos, ARRAY_LEN(herrnos), code, "H_ERRNO_", buf, len);
}
