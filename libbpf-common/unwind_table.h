/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A binary's unwind table (bpf/unwind.h), compiled from its call frame information. */
#ifndef STALLKIT_UNWIND_TABLE_H
#define STALLKIT_UNWIND_TABLE_H

#include <gelf.h>
#include <stddef.h>
#include "unwind.h"

struct unwind_table {
	struct unwind_row *rows; /* sorted by pc; a UNWIND_NONE row ends each covered run */
	size_t count;
	size_t cap;
};

/*
 * The rows for every address that .eh_frame describes, found through the sorted index of
 * .eh_frame_hdr.  Returns 0 (with no rows when the binary has no such information), or a
 * negative errno.
 */
int unwind_table_build(Elf *elf, struct unwind_table *t);
void unwind_table_free(struct unwind_table *t);

/* The row that holds at pc, NULL where none does (userspace's copy of the BPF lookup) */
const struct unwind_row *unwind_table_find(const struct unwind_table *t, __u32 pc);

#endif
