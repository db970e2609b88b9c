/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a file descriptor of a process is: a path, a pipe, a socket and its addresses, ... */
#ifndef STALLKIT_FDINFO_H
#define STALLKIT_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "sockinfo.h"

/*
 * "/var/log/app.log", "pipe:[123]", "tcp 10.0.0.1:443 -> 10.0.0.2:51234 ESTABLISHED",
 * "udp 127.0.0.1:53", "unix /run/app.sock", "epoll (fds 4,7)", "eventfd".  False (and a
 * reason in buf) if the process or the descriptor is gone.
 */
bool fd_describe(pid_t pid, int fd, char *buf, size_t len);

/*
 * The same for a descriptor that referred to inode ino (of type mode) at some moment: if the
 * descriptor now refers to something else (closed, or reused), what was noted then is
 * described instead: the socket from sock (may be NULL), "pipe:[123]", "inode 123".
 */
void fd_describe_inode(pid_t pid, int fd, unsigned long ino, unsigned int mode,
		       const struct sock_info *sock, char *buf, size_t len);

/* "tcp 10.0.0.1:443 -> 10.0.0.2:51234 ESTABLISHED", "udp6 [::1]:53", "unix socket" */
void sock_info_describe(const struct sock_info *sock, char *buf, size_t len);

/*
 * Calls fn for each socket of /proc/PID/net/PROTO[6] (proto "tcp" or "udp": the sockets of
 * pid's network namespace), with its inode; stops when fn returns non-zero and returns that.
 * -errno if the table cannot be read.
 */
int proc_inet_sockets(pid_t pid, const char *proto, bool v6,
		      int (*fn)(const struct sock_info *s, unsigned long inode, void *ctx), void *ctx);

#endif
