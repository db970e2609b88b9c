/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internet endpoints and TCP states in words, as every tool writes them. */
#ifndef STALLKIT_INET_H
#define STALLKIT_INET_H

#include <stddef.h>
#include <stdint.h>

/* "ESTABLISHED", "SYN_SENT", ... as ss(8) and /proc/net/tcp name them; "?" if unknown */
const char *tcp_state_name(unsigned int state);

/* "10.0.0.1:443", "[fd00::1]:443"; addr is in network order (IPv4: its first 4 bytes) */
char *inet_endpoint_format(char *buf, size_t len, int family, const uint8_t *addr,
			   unsigned int port);

/* "10.0.0.1", "fd00::1" */
char *inet_address_format(char *buf, size_t len, int family, const uint8_t *addr);

#endif
