/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Owners of sockets that BPF has not seen used since it started (a connection stuck before
 * tcpretrans began): the processes with the socket open, from /proc/PID/fd, as ss -p finds
 * them.  /proc is read again on a miss, at most every 100 ms.
 */
#ifndef STALLKIT_TCPRETRANS_OWNER_H
#define STALLKIT_TCPRETRANS_OWNER_H

#include <stdbool.h>
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

/*
 * Notes the TCP listeners that exist already, in every network namespace a process is in, in
 * the BPF map of owners by connection (fd): the owner of what arrives for a connection that
 * its server has not accepted or read from yet.  wanted() says whether an owner passes the
 * tool's filter.  Returns how many were noted.
 */
size_t listeners_note(struct socket_owners *o, int fd,
		      bool (*wanted)(pid_t pid, const char *comm, void *ctx), void *ctx);
void socket_owners_free(struct socket_owners *o);

#endif
