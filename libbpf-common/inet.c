// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include "inet.h"
#include "util.h"

/* include/net/tcp_states.h; part of the kernel's user ABI (/proc/net/tcp prints them) */
static const char *const tcp_states[] = {
	"?",	     "ESTABLISHED", "SYN_SENT",	    "SYN_RECV",	      "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT",   "CLOSE",	    "CLOSE_WAIT",     "LAST_ACK",
	"LISTEN",    "CLOSING",	    "NEW_SYN_RECV", "BOUND_INACTIVE",
};

const char *tcp_state_name(unsigned int state)
{
	return state < ARRAY_LEN(tcp_states) ? tcp_states[state] : "?";
}

char *inet_address_format(char *buf, size_t len, int family, const uint8_t *addr)
{
	if (!inet_ntop(family, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

char *inet_endpoint_format(char *buf, size_t len, int family, const uint8_t *addr,
			   unsigned int port)
{
	char a[INET6_ADDRSTRLEN];

	inet_address_format(a, sizeof(a), family, addr);
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}
