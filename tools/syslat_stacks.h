/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syslat --stacks: the stacks of slow calls, aggregated, and printed symbolized. */
#ifndef STALLKIT_SYSLAT_STACKS_H
#define STALLKIT_SYSLAT_STACKS_H

#include <stdbool.h>
#include <stdio.h>
#include "json.h"
#include "rows.h"
#include "symbolizer.h"
#include "syslat.h"
#include "unwinder.h"

struct syslat_stack {
	__u32 nr;
	__u32 pid;
	char comm[SYSLAT_COMM_LEN];
	__u32 user_frames;
	__u32 kernel_frames;
	uint64_t user[STACK_MAX_DEPTH];
	uint64_t kernel[SYSLAT_STACK_DEPTH];
	/* not part of the key */
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
};

struct syslat_stacks {
	struct symbolizer *sym;
	struct unwinder *unw; /* finishes the stacks the BPF half could not (set after init) */
	struct rows rows; /* of struct syslat_stack */
	__u64 min_ns;	 /* the --min they were taken at */
};

int stacks_init(struct syslat_stacks *st, __u64 min_ns, const struct runtime_opts *runtime);
/* One slow call's stacks: its process is noted the first time it is seen, so that its
 * addresses resolve even after it exits. */
void stacks_add(struct syslat_stacks *st, const struct syslat_stack_event *e,
		const struct unwind_copy *copy);
/* The top stacks by total time: a text section, or a "stacks" array of the JSON report. */
void stacks_print_text(FILE *out, struct syslat_stacks *st, unsigned int top);
void stacks_print_json(struct json *j, struct syslat_stacks *st, unsigned int top);
void stacks_free(struct syslat_stacks *st);

#endif
