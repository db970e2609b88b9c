/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Owners of sockets that BPF has not seen used since it started (a connection stuck before
 * tcpretrans began): the processes with the socket open, from /proc/PID/fd, as ss -p finds
 * them.  /proc is read again on a miss, at most once a second.
 */
#ifndef STALLKIT_TCPRETRANS_OWNER_H
#define STALLKIT_TCPRETRANS_OWNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct socket_holder {
	uint64_t inode;
	pid_t pid;
};

struct socket_owners {
	struct socket_holder *holders; /* sorted by inode */
	size_t n, cap;
	uint64_t scanned_ns; /* CLOCK_MONOTONIC of the last scan, 0: never */
};

/* The process holding socket inode (the lowest PID if several do), 0 if none does */
pid_t socket_owner(struct socket_owners *o, uint64_t inode);
void socket_owners_free(struct socket_owners *o);

#endif
