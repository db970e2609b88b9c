/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Options every tool shares, as argp children, so that --help, --usage, --version and error
 * messages look the same everywhere.  A tool lists the children it wants in its argp and, at
 * ARGP_KEY_INIT, points state->child_inputs[i] at its own struct of that kind.
 */
#ifndef STALLKIT_OPTIONS_H
#define STALLKIT_OPTIONS_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>
#include "filter.h"
#include "parse.h"

#define EXIT_RUNTIME 1 /* the kernel, the environment or the target failed us */
#define EXIT_USAGE   2 /* the command line is wrong */

/* -p PID[,..] -t TID[,..] --comm NAME --cgroup PATH */
struct target_opts {
	struct id_list pids;
	struct id_list tids;
	const char *comm;
	const char *cgroup;
};

/* -d DURATION -i INTERVAL --max-cpu PCT */
struct timing_opts {
	uint64_t duration_ns; /* 0: until a signal */
	uint64_t interval_ns; /* 0: one report at the end */
	double max_cpu_pct;   /* 0: no overhead guard */
};

/* --json -v */
struct output_opts {
	bool json;
	bool verbose;
};

/* --no-runtime-frames --jvm-perfmap */
struct runtime_opts {
	bool no_runtime_frames; /* interpreters' frames are not walked nor shown */
	bool jvm_perfmap;	/* JVMs are asked for their perf map when their code is named */
};

extern const struct argp target_argp;
extern const struct argp timing_argp; /* includes max_cpu_argp */
/* --max-cpu PCT alone, into a struct timing_opts: for tools whose duration is an argument */
extern const struct argp max_cpu_argp;
extern const struct argp output_argp;
extern const struct argp runtime_argp;

/* First thing in main(): the heap on huge pages (heap.h, which may run the program again),
 * argp_program_version, exit status 2 for usage errors. */
void options_init(void);
/* Usage error outside argp (after parsing): prints "tool: message" and the --help hint. */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void target_opts_free(struct target_opts *t);

#endif
