/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A tracing session: how long it runs, when it reports, when it ends.  It ends on SIGINT,
 * SIGTERM or SIGHUP (the tool then prints its complete report), after -d, or when every
 * targeted process or thread has exited.  Events from a ring buffer are consumed as they come.
 */
#ifndef STALLKIT_SESSION_H
#define STALLKIT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "options.h"
#include "units.h"

enum session_wake {
	SESSION_INTERVAL, /* -i elapsed: print and reset */
	SESSION_TICK,	  /* the tool's housekeeping period elapsed */
	SESSION_END,
};

struct session_target {
	pid_t id;
	int pidfd; /* -1: watched by polling /proc */
	bool gone;
};

struct session {
	int epfd;
	int sigfd;
	int duration_fd;
	int interval_fd;
	int tick_fd;
	int poll_fd; /* polls /proc for targets that have no pidfd */
	struct ring_buffer *rb;
	struct session_target *targets;
	size_t ntargets;
	size_t alive;
	uint64_t start_ns;    /* CLOCK_MONOTONIC */
	uint64_t interval_start_ns;
	const char *end_reason;
};

/* Blocks SIGINT, SIGTERM and SIGHUP (they are read through a signalfd instead).  Call it first
 * thing, so a signal during start-up still ends the session with a report. */
int session_block_signals(void);

/* rb may be NULL; tick_ns 0 means no ticks.  Returns 0 or -1 (message printed). */
int session_begin(struct session *s, const struct timing_opts *timing,
		  const struct target_opts *targets, struct ring_buffer *rb, uint64_t tick_ns);
enum session_wake session_wait(struct session *s);
/* Ends the current interval now and starts the next: returns the length of the one that ended.
 * Intervals tile the session, however long printing a report takes. */
uint64_t session_next_interval(struct session *s);
void session_end(struct session *s);

/* Wall-clock time for a CLOCK_MONOTONIC timestamp, as HH:MM:SS.mmm */
void format_wall_time(char *buf, size_t len, uint64_t monotonic);

#endif
