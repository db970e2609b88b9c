/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where user stacks stopped short of the thread's first frame, and why, by module: a loss like
 * any other, shown in every report's footer and JSON so that a user sees which binary lacks
 * unwind information.
 */
#ifndef STALLKIT_STACK_STOPS_H
#define STALLKIT_STACK_STOPS_H

#include <stdint.h>
#include <stdio.h>
#include "json.h"
#include "symbolizer.h"

/* "no unwind info", "stack not readable", ...: what a mark (bpf/unwind.h) says */
const char *unwind_stop_what(unsigned int stop);
/* "no_unwind_info", ...: the same as a JSON key */
const char *unwind_stop_key(unsigned int stop);

struct stack_stop {
	unsigned int stop;
	char *module; /* where unwinding stopped: the last frame's module, NULL if none */
	uint64_t stacks; /* events (blocks, calls, samples) whose stack stopped so */
	uint64_t total_ns;
};

struct stack_stops {
	struct stack_stop *at;
	size_t n;
	size_t cap;
};

/* A symbolized user stack, counted if it ends with a mark */
void stack_stops_add(struct stack_stops *t, const struct sym_frame *frames, size_t n,
		     uint64_t events, uint64_t total_ns);
void stack_stops_clear(struct stack_stops *t);
/* "unwind stopped: 12 stacks (3.4 ms): no unwind info in libfoo.so", one line each */
void stack_stops_print(FILE *out, const struct stack_stops *t);
/* "unwind_stops": [{"reason", "module", "stacks", "total_ns"}] */
void stack_stops_json(struct json *j, const struct stack_stops *t);

#endif
