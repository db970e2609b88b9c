// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "syscalls.h"

const char *syscall_name(unsigned int nr)
{
	for (unsigned int i = 0; i < syscall_names_len; i++)
		if (syscall_names[i].nr == nr)
			return syscall_names[i].name;
	return NULL;
}

bool syscall_never_returns(unsigned int nr)
{
	const char *name = syscall_name(nr);

	return name && (!strcmp(name, "exit") || !strcmp(name, "exit_group"));
}

int syscall_lookup(const char *s, unsigned int *nr)
{
	uint64_t v;

	if (!parse_u64(s, &v)) {
		if (v > 0xffffffffULL || !syscall_name(v))
			return -ENOENT;
		*nr = v;
		return 0;
	}
	for (unsigned int i = 0; i < syscall_names_len; i++) {
		if (!strcmp(syscall_names[i].name, s)) {
			*nr = syscall_names[i].nr;
			return 0;
		}
	}
	return -ENOENT;
}

/* Levenshtein distance, for short names */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

size_t syscall_suggest(const char *unknown, const char **out, size_t max)
{
	size_t limit = strlen(unknown) / 3 + 1, n = 0;

	/* by rising distance; a name that contains the input counts as distance 1 */
	for (size_t d = 0; d <= limit && n < max; d++) {
		for (unsigned int i = 0; i < syscall_names_len && n < max; i++) {
			const char *name = syscall_names[i].name;
			size_t dist = edit_distance(unknown, name);

			if (strstr(name, unknown) && dist > 1)
				dist = 1;
			if (dist == d)
				out[n++] = name;
		}
	}
	return n;
}
