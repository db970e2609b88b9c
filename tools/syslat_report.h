/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syslat: the report (text or JSON) and the slow-call events (--min). */
#ifndef STALLKIT_SYSLAT_REPORT_H
#define STALLKIT_SYSLAT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "capture.h"
#include "session.h"
#include "syslat_collect.h"
#include "syslat_inflight.h"
#include "syslat_stacks.h"

struct report_opts {
	bool histograms; /* -H */
	unsigned int top; /* -T: rows at most, 0: all */
	uint32_t key_by;
};

struct report_period {
	uint64_t duration_ns;
	const char *end_reason;			   /* NULL for an interval */
	const struct syslat_inflight_list *inflight; /* NULL for an interval */
	struct syslat_stacks *stacks;		     /* --stacks, at the end */
	unsigned int top_stacks;
	const struct session *session; /* at the end: its footer */
};

/* The report, in the forms wanted (text, JSON, or both for a capture) */
void report_print(const struct report_streams *streams, const struct report_opts *o,
		  const struct syslat_collector *c, const struct report_period *p);

/* One slow call, as it completes */
void report_event(const struct report_streams *streams, const struct syslat_event *e);

#endif
