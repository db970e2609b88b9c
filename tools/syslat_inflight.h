/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syslat: threads still inside a traced syscall when the report is made (the hung ones). */
#ifndef STALLKIT_SYSLAT_INFLIGHT_H
#define STALLKIT_SYSLAT_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "options.h"
#include "syslat.h"
#include "syslat.skel.h"

struct syslat_inflight {
	pid_t pid;
	pid_t tid;
	unsigned int nr;
	uint64_t duration_ns;	   /* at least this long; since tracing began if before_tracing */
	bool before_tracing;	   /* the call began before syslat attached */
	char state;		   /* S, D, ... from /proc */
	char comm[16];
	char wchan[64];		   /* the kernel function it sleeps in */
};

struct syslat_inflight_list {
	struct syslat_inflight *items; /* longest first */
	size_t len;
	size_t hidden_before_tracing; /* system-wide: calls older than tracing, not listed */
};

/*
 * Threads in scope (the -p/-t targets, else every thread) that are inside a traced syscall.
 * Calls that began before tracing are listed for targeted threads only; system-wide they are
 * counted (every idle daemon waits in some syscall).
 */
int inflight_scan(struct syslat_bpf *skel, const struct target_opts *targets,
		  uint64_t tracing_start_ns, struct syslat_inflight_list *out);
void inflight_free(struct syslat_inflight_list *list);

#endif
