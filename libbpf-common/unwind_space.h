/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Room in the unwinder's array of rows: each binary's table takes a run of it, and gives it
 * back when evicted.  First fit; a run given back merges with its free neighbours.
 */
#ifndef STALLKIT_UNWIND_SPACE_H
#define STALLKIT_UNWIND_SPACE_H

#include <stddef.h>
#include <stdint.h>

struct unwind_run {
	uint32_t start;
	uint32_t len;
};

struct unwind_space {
	struct unwind_run *free; /* sorted by start, none adjacent */
	size_t n;
	size_t cap;
	uint32_t size;
	uint32_t used;
};

int unwind_space_init(struct unwind_space *s, uint32_t size);
/* The start of a run of len, -1 if no free run is that long */
long unwind_space_take(struct unwind_space *s, uint32_t len);
void unwind_space_give(struct unwind_space *s, uint32_t start, uint32_t len);
void unwind_space_free(struct unwind_space *s);

#endif
