/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Syscall names and numbers of the build architecture (table generated at build time). */
#ifndef STALLKIT_SYSCALLS_H
#define STALLKIT_SYSCALLS_H

#include <stdbool.h>
#include <stddef.h>

struct syscall_name {
	const char *name;
	unsigned int nr;
};

extern const struct syscall_name syscall_names[];
extern const unsigned int syscall_names_len;

/* The name of nr, or NULL. */
const char *syscall_name(unsigned int nr);
/* A name ("poll") or a number ("7"); -ENOENT if the table has no such syscall. */
int syscall_lookup(const char *name_or_number, unsigned int *nr);
/* exit and exit_group: they end the thread, so sys_exit never comes */
bool syscall_never_returns(unsigned int nr);
/* Up to max known names closest to an unknown one, best first; returns how many. */
size_t syscall_suggest(const char *unknown, const char **out, size_t max);

#endif
