/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syslat: what the arguments of a syscall mean (which one is a descriptor, how to print them). */
#ifndef STALLKIT_SYSLAT_DECODE_H
#define STALLKIT_SYSLAT_DECODE_H

#include <stddef.h>
#include "syslat.h"

/* Fills fd_arg[nr] (enum syslat_fd_arg) for every syscall that waits on a descriptor. */
void syslat_fd_args(__u8 fd_arg[SYSLAT_MAX_NR]);

/* "fds=[3,5] nfds=2 timeout=50ms": the key arguments of an event's call. */
void syslat_format_args(const struct syslat_event *e, char *buf, size_t len);

/* "0", "4096", "EBADF" */
void syslat_format_result(long long ret, char *buf, size_t len);

#endif
