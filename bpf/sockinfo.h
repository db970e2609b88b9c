/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a socket is (family, protocol, addresses, TCP state), noted in BPF while it exists, so
 * that a report can still say it after the socket is closed. */
#ifndef STALLKIT_SOCKINFO_H
#define STALLKIT_SOCKINFO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct sock_info {
	__u16 family;	/* AF_INET, AF_INET6, AF_UNIX, ...; 0: not a socket (or unknown) */
	__u16 type;	/* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 protocol; /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 state;	/* TCP state (TCP_ESTABLISHED, ...) */
	__u8 pad;
	__u16 local_port; /* host byte order */
	__u16 remote_port;
	__u8 local_addr[16]; /* IPv4: the first 4 bytes, network order */
	__u8 remote_addr[16];
};

#endif
