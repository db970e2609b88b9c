/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* offcputime's and profile's report: BCC-like blocks, folded stacks, or JSON. */
#ifndef STALLKIT_OFFCPUTIME_REPORT_H
#define STALLKIT_OFFCPUTIME_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "session.h"
#include "capture.h"
#include "parse.h"
#include "offcputime_collect.h"
#include "symbolizer.h"
#include "unwinder.h"

struct offcpu_report_opts {
	const char *tool;   /* "offcputime", "profile" */
	bool samples;	    /* profile: values are numbers of samples */
	bool wall;	    /* profile --wall: states as leaves, time by thread */
	bool json;
	bool folded;
	bool delimiter;	    /* -d: a line between kernel and user frames */
	bool user_stacks;   /* not -K */
	bool kernel_stacks; /* not -U */
	bool per_thread;
};

struct offcpu_period {
	uint64_t duration_ns;
	const char *end_reason; /* NULL for an interval */
	uint64_t stack_storage_size;
	const struct session *session; /* at the end: its footer */
};

/* A report line: a row's count and total in the period reported */
struct offcpu_line {
	const struct offcpu_row *row;
	uint64_t count, total_ns;
};

/* "S", "D", "R", "on-cpu" */
const char *offcpu_state_name(uint32_t state);

/* The report in every form wanted: folded stacks (o->folded) on stdout, text and JSON to their
 * streams (the user's and a capture's) */
void offcpu_report(const struct report_streams *streams, const struct offcpu_report_opts *o,
		   struct offcpu_collector *c, struct symbolizer *sym, const struct offcpu_period *p);

/*
 * The session's tick (once a second): exited processes forgotten, the entries created since
 * taken, and their stacks resolved for 100 ms of CPU time at most: what the symbolizer learns
 * (debug information indexed, answers kept) makes the report at the end quick, whatever the
 * number of stacks.
 */
void offcpu_tick(struct offcpu_collector *c, struct unwinder *u, struct symbolizer *sym,
		 const struct offcpu_report_opts *o);
/* -v, at the end: what the unwind tables held, and how much was resolved ahead */
void offcpu_print_notes(const struct offcpu_collector *c, const struct unwinder *u);

#endif
