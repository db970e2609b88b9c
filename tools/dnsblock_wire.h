/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The vocabulary of name lookups: DNS messages as the wire has them (RFC 1035), and the
 * errors of the C library's resolver calls, by name. */
#ifndef STALLKIT_DNSBLOCK_WIRE_H
#define STALLKIT_DNSBLOCK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

/*
 * A question section: the name in dotted form ("example.com", "." for the root) and the
 * type.  Compression pointers are not followed (a question has none).  0, or -1 if the bytes
 * end early or are not a name.
 */
int dns_question_decode(const uint8_t *q, size_t len, char *name, size_t name_len,
			uint16_t *qtype);

/* "A", "AAAA", "PTR", ...; "TYPE65" for the others (buf holds it) */
const char *dns_type_name(uint16_t type, char *buf, size_t len);
/* "NOERROR", "NXDOMAIN", ...; "RCODE12" for the others */
const char *dns_rcode_name(int rcode, char *buf, size_t len);
/* "getaddrinfo", ...: a resolver function's name (its symbol), "wire" for a negative api */
const char *dns_api_name(int api);
/* getaddrinfo's and getnameinfo's errors: "EAI_NONAME", ...; "EAI_-123" if unknown */
const char *eai_name(int code, char *buf, size_t len);
/* gethostbyname's h_errno: "HOST_NOT_FOUND", ...; "H_ERRNO_7" if unknown */
const char *herrno_name(int code, char *buf, size_t len);

#endif
