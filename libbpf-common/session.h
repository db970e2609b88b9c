/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A tracing session: whether the host's policy allows it, how long it runs, when it reports,
 * when it ends, what it costs, and its record in the audit log.  It ends on SIGINT, SIGTERM or
 * SIGHUP (the tool then prints its complete report), after -d, when every targeted process or
 * thread has exited, or when its cost over a second exceeds --max-cpu.  Events from a ring
 * buffer are consumed as they come.
 *
 * A tool's main(): session_admit() right after parsing its options, session_begin() once its
 * programs are attached, session_wait() until SESSION_END, its report (with cost_print()),
 * session_end(), and session_close() on every path after a successful session_admit().
 */
#ifndef STALLKIT_SESSION_H
#define STALLKIT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "audit.h"
#include "capture.h"
#include "cost.h"
#include "loss_user.h"
#include "options.h"
#include "policy.h"
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
	int guard_fd;	      /* the overhead guard's one-second window (-1: no guard) */
	double max_cpu_pct;
	uint64_t start_ns;    /* CLOCK_MONOTONIC */
	uint64_t interval_start_ns;
	const char *end_reason;
	char end_buf[64];     /* an end reason made up here */

	/* admission */
	const char *tool;
	const struct target_opts *target_opts;
	const struct capture_opts *capture_opts;
	struct timespec admitted; /* CLOCK_REALTIME */
	struct policy policy;
	struct audit audit;
	struct cost_meter cost;
};

/*
 * First thing after the options: blocks SIGINT, SIGTERM and SIGHUP (read through a signalfd
 * instead, so that a signal during start-up still ends the session with a report), reads the
 * host's policy (stallkit-policy(5)) and applies it to the options: refuses what it does not
 * allow, gives a session without -d the policy's duration and the policy's CPU limit, keeps
 * the capture in its directory; turns BPF stats on, and writes the audit log's start line.
 * Returns 0, or the exit status of a refused session (its message printed, its refusal
 * audited).  The options must outlive the session.
 */
int session_admit(struct session *s, const char *tool, struct timing_opts *timing,
		  const struct target_opts *targets, struct capture_opts *capture);
/* The part of session_admit() that blocks the signals */
int session_block_signals(void);

/* Tracing begins, with the programs of obj attached (their cost measured from now on).  rb may
 * be NULL; tick_ns 0 means no ticks.  Returns 0 or -1 (message printed). */
int session_begin(struct session *s, const struct timing_opts *timing,
		  const struct target_opts *targets, struct ring_buffer *rb, uint64_t tick_ns,
		  struct bpf_object *obj);
enum session_wake session_wait(struct session *s);
/* Ends the current interval now and starts the next: returns the length of the one that ended.
 * Intervals tile the session, however long printing a report takes. */
uint64_t session_next_interval(struct session *s);
/* Tracing is over: the timers and descriptors closed */
void session_end(struct session *s);
/*
 * The session's last line in the audit log (how it ended, its losses if the tool got that far,
 * its capture, its cost), and what admission held.  Returns exit_status, or EXIT_RUNTIME when a
 * required audit line could not be written.
 */
int session_close(struct session *s, const struct losses *losses, int exit_status);

/* The last lines of a final report: "ended: REASON" and what the session cost (cost_print) */
void session_footer(FILE *out, const struct session *s);

/* Wall-clock time for a CLOCK_MONOTONIC timestamp, as HH:MM:SS.mmm */
void format_wall_time(char *buf, size_t len, uint64_t monotonic);

#endif
