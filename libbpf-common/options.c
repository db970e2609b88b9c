// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "options.h"

const char *argp_program_version = "stallkit " STALLKIT_VERSION;

enum {
	OPT_COMM = 0x100,
	OPT_CGROUP,
	OPT_JSON,
	OPT_NO_RUNTIME_FRAMES,
	OPT_JVM_PERFMAP,
	OPT_MAX_CPU,
};

void options_init(void)
{
	heap_on_huge_pages();
	argp_err_exit_status = EXIT_USAGE;
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

static const struct argp_option target_options[] = {
	{ "pid", 'p', "PID[,PID...]", 0, "Trace only these processes (all their threads)", 0 },
	{ "tid", 't', "TID[,TID...]", 0, "Trace only these threads", 0 },
	{ "comm", OPT_COMM, "NAME", 0, "Trace only threads with this command name", 0 },
	{ "cgroup", OPT_CGROUP, "PATH", 0,
	  "Trace only tasks in this cgroup v2 (a directory, or a path like /system.slice/x)", 0 },
	{},
};

static error_t parse_target(int key, char *arg, struct argp_state *state)
{
	struct target_opts *t = state->input;

	switch (key) {
	case 'p':
	case 't':
		if (parse_id_list(arg, key == 'p' ? &t->pids : &t->tids))
			argp_error(state, "invalid %s list '%s': expected IDs like 1234 or 1234,5678",
				   key == 'p' ? "PID" : "TID", arg);
		if (t->pids.len && t->tids.len)
			argp_error(state, "-p and -t cannot be combined");
		break;
	case OPT_COMM:
		if (!*arg || strlen(arg) >= FILTER_COMM_LEN)
			argp_error(state, "--comm '%s': a command name has 1 to %d characters",
				   arg, FILTER_COMM_LEN - 1);
		t->comm = arg;
		break;
	case OPT_CGROUP:
		t->cgroup = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp target_argp = { target_options, parse_target, NULL, NULL, NULL, NULL, NULL };

static const struct argp_option timing_options[] = {
	{ "duration", 'd', "DURATION", 0, "Stop after DURATION (e.g. 10s, 500ms, 2m)", 0 },
	{ "interval", 'i', "INTERVAL", 0, "Print and reset the report every INTERVAL", 0 },
	{},
};

static const struct argp_option max_cpu_options[] = {
	{ "max-cpu", OPT_MAX_CPU, "PCT", 0,
	  "End the session, with its report, when it costs more than PCT% of the host's CPU over "
	  "a second (e.g. 2%)", 0 },
	{},
};

static error_t parse_max_cpu(int key, char *arg, struct argp_state *state)
{
	struct timing_opts *t = state->input;

	if (key != OPT_MAX_CPU)
		return ARGP_ERR_UNKNOWN;
	if (parse_percent(arg, &t->max_cpu_pct))
		argp_error(state, "invalid --max-cpu '%s': expected a share of the host's CPU like 2%% "
			   "or 0.5%%", arg);
	return 0;
}

const struct argp max_cpu_argp = { max_cpu_options, parse_max_cpu, NULL, NULL, NULL, NULL, NULL };

static const struct argp_child timing_children[] = {
	{ &max_cpu_argp, 0, NULL, 0 },
	{},
};

static error_t parse_timing(int key, char *arg, struct argp_state *state)
{
	struct timing_opts *t = state->input;
	uint64_t *out;

	switch (key) {
	case 'd':
	case 'i':
		out = key == 'd' ? &t->duration_ns : &t->interval_ns;
		if (parse_duration(arg, NSEC_PER_SEC, out) || *out == 0)
			argp_error(state, "invalid %s '%s': expected e.g. 10s, 500ms, 2m or 1.5",
				   key == 'd' ? "duration" : "interval", arg);
		break;
	case ARGP_KEY_INIT:
		state->child_inputs[0] = t;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp timing_argp = { timing_options, parse_timing, NULL, NULL, timing_children, NULL,
				   NULL };

static const struct argp_option output_options[] = {
	{ "json", OPT_JSON, NULL, 0, "Write JSON instead of text", 0 },
	{ "verbose", 'v', NULL, 0, "Explain the kernel features used; show libbpf's log", 0 },
	{},
};

static error_t parse_output(int key, char *arg, struct argp_state *state)
{
	struct output_opts *o = state->input;

	(void)arg;
	switch (key) {
	case OPT_JSON:
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp output_argp = { output_options, parse_output, NULL, NULL, NULL, NULL, NULL };

static const struct argp_option runtime_options[] = {
	{ "no-runtime-frames", OPT_NO_RUNTIME_FRAMES, NULL, 0,
	  "Show stacks as the machine runs them: CPython's evaluation loop and V8's builtins and "
	  "JIT code, not the Python and JavaScript functions they run", 0 },
	{ "jvm-perfmap", OPT_JVM_PERFMAP, NULL, 0,
	  "Name compiled Java methods: ask each HotSpot JVM (JDK 17+) whose code is in the "
	  "stacks for its perf map when the report is made (a few ms of the JVM's time)", 0 },
	{},
};

static error_t parse_runtime(int key, char *arg, struct argp_state *state)
{
	struct runtime_opts *o = state->input;

	(void)arg;
	switch (key) {
	case OPT_NO_RUNTIME_FRAMES:
		o->no_runtime_frames = true;
		break;
	case OPT_JVM_PERFMAP:
		o->jvm_perfmap = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp runtime_argp = { runtime_options, parse_runtime, NULL, NULL, NULL, NULL, NULL };

void target_opts_free(struct target_opts *t)
{
	id_list_free(&t->pids);
	id_list_free(&t->tids);
}
