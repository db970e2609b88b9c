/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the unwinder's parts (unwinder.c, unwind_copy.c) share. */
#ifndef STALLKIT_UNWINDER_INTERNAL_H
#define STALLKIT_UNWINDER_INTERNAL_H

#include "unwind_table.h"
#include "unwinder.h"

/* The rows of the table with that ID, NULL if none */
const struct unwind_table *unwinder_table(const struct unwinder *u, __u32 table);
/* Room for one process's mappings, as the BPF half has them */
struct unwind_process *unwinder_scratch(struct unwinder *u);
const struct unwinder_maps *unwinder_maps(const struct unwinder *u);

#endif
