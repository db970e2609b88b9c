/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a file descriptor of a process is: a path, a pipe, a socket and its addresses, ... */
#ifndef STALLKIT_FDINFO_H
#define STALLKIT_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * "/var/log/app.log", "pipe:[123]", "tcp 10.0.0.1:443 -> 10.0.0.2:51234 ESTABLISHED",
 * "udp 127.0.0.1:53", "unix /run/app.sock", "epoll (fds 4,7)", "eventfd".  False (and a
 * reason in buf) if the process or the descriptor is gone.
 */
bool fd_describe(pid_t pid, int fd, char *buf, size_t len);

/*
 * The same for a descriptor that referred to inode ino (of type mode) at some moment: if the
 * descriptor now refers to something else (closed and reused), the inode is described instead
 * ("pipe:[123]", the socket's addresses if it is still open somewhere in the process).
 */
void fd_describe_inode(pid_t pid, int fd, unsigned long ino, unsigned int mode, char *buf,
		       size_t len);

#endif
