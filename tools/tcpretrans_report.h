/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpretrans output: a line per retransmission or drop as it comes (text or JSON lines), or
 * with -c counts per connection, per remote host and per drop reason and stack, each interval
 * and at the end; then the totals and every loss.
 */
#ifndef STALLKIT_TCPRETRANS_REPORT_H
#define STALLKIT_TCPRETRANS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "capture.h"
#include "json.h"
#include "loss_user.h"
#include "rows.h"
#include "session.h"
#include "symbolizer.h"
#include "tcpretrans.h"

struct tcpr_report_opts {
	bool count;    /* -c */
	bool sequence; /* -s */
	bool drops;    /* --drops */
};

struct tcpr_counts {
	uint64_t retransmits; /* packets (a GSO packet is one) */
	uint64_t segments;
	uint64_t kinds[TCPR_KINDS];
	uint64_t failed; /* retransmissions the kernel could not send */
	uint64_t drops;
};

/* What was seen in one period: the whole run, or an interval of -c -i */
struct tcpr_tally {
	struct rows flows;   /* struct flow_row */
	struct rows hosts;   /* struct host_row */
	struct rows reasons; /* struct reason_row: drops by reason and kernel stack */
	struct tcpr_counts total;
};

struct tcpr_report {
	FILE *out;  /* the text form, or NULL */
	FILE *json; /* the JSON form, or NULL */
	struct json j;
	struct tcpr_report_opts opts;
	struct symbolizer *sym; /* kernel stacks of drops; NULL without --drops */
	int stacks_fd;
	struct tcpr_tally interval, run;
};

/* How a session went, for the last report */
struct tcpr_facts {
	uint64_t duration_ns;
	bool intervals;	      /* -i: counts were printed per interval */
	uint64_t interval_ns; /* since the last interval's counts */
	const char *end_reason;
	uint64_t owner_unknown; /* events whose owner neither BPF nor /proc knew */
	uint64_t unattributed;	/* events not shown: their owner could not be matched to -p... */
	struct losses losses;
	const struct session *session; /* its footer */
};

/* Prints the column header of the event lines */
void tcpr_report_init(struct tcpr_report *r, const struct report_streams *streams,
		      const struct tcpr_report_opts *opts, struct symbolizer *sym, int stacks_fd);
/* An event whose owner is known as far as it can be (pid 0: unknown) */
void tcpr_report_event(struct tcpr_report *r, const struct tcpr_event *e);
/* -c -i: the counts of the interval, which then starts again */
void tcpr_report_interval(struct tcpr_report *r, uint64_t interval_ns);
void tcpr_report_summary(struct tcpr_report *r, const struct tcpr_facts *facts);
void tcpr_report_free(struct tcpr_report *r);

const char *tcpr_kind_name(unsigned int kind);

#endif
