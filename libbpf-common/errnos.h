/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Errno names (table generated at build time from the kernel's headers). */
#ifndef STALLKIT_ERRNOS_H
#define STALLKIT_ERRNOS_H

#include <stdbool.h>

struct errno_name {
	const char *name;
	int value;
	bool alias; /* EWOULDBLOCK for EAGAIN: accepted, never printed */
};

extern const struct errno_name errno_names[];
extern const unsigned int errno_names_len;

/* "EBADF" for 9; NULL if unknown.  Knows the kernel's restart codes that syscalls return to
 * tracers before signal handling (ERESTARTSYS and friends). */
const char *errno_name(int value);
/* A name ("EBADF") or a positive number ("9"); -ENOENT if unknown. */
int errno_lookup(const char *name_or_number, int *value);

#endif
