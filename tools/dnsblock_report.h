/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* dnsblock's output: a line (or a JSON line) per lookup as it completes, and at the end a
 * summary per name and per process. */
#ifndef STALLKIT_DNSBLOCK_REPORT_H
#define STALLKIT_DNSBLOCK_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "capture.h"
#include "dnsblock_track.h"
#include "json.h"
#include "stack_stops.h"
#include "loss_user.h"
#include "rows.h"
#include "session.h"
#include "symbolizer.h"

struct dns_report_opts {
	bool stacks;
	uint64_t min_ns; /* lookups faster than this are left out, of the summary too */
};

struct dns_report {
	FILE *out;  /* the text form, or NULL */
	FILE *json; /* the JSON form, or NULL */
	struct json j;
	struct dns_report_opts opts;
	struct symbolizer *sym;
	struct rows by_name;	/* of struct name_row */
	struct rows by_process; /* of struct process_row */
	uint64_t lookups;
	struct stack_stops stops; /* of the stacks shown */
};

/* What the summary says besides the lookups */
struct dns_session_facts {
	uint64_t duration_ns;
	const char *end_reason;
	size_t in_progress;
	uint64_t late_responses;
	uint64_t abandoned_calls;
	uint64_t unreadable;
	struct losses losses;
	const struct session *session; /* its footer */
};

/* Prints the header of the lines (text) */
void report_init(struct dns_report *r, const struct report_streams *streams,
		 const struct dns_report_opts *opts, struct symbolizer *sym);
/* A lookup_done_fn: prints the lookup and counts it for the summary */
void report_lookup(void *report, const struct dns_lookup *l);
void report_summary(struct dns_report *r, const struct dns_session_facts *f);
void report_free(struct dns_report *r);

#endif
