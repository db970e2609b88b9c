// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syslat: which syscalls are slow, how slow, on which descriptor, and who is stuck in one.
 */
#include <argp.h>
#include <err.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errnos.h"
#include "filters.h"
#include "loader.h"
#include "options.h"
#include "session.h"
#include "syscalls.h"
#include "syslat.h"
#include "syslat.skel.h"
#include "unwinder.h"
#include "syslat_collect.h"
#include "syslat_decode.h"
#include "syslat_inflight.h"
#include "capture.h"
#include "syslat_report.h"
#include "syslat_stacks.h"
#include "units.h"
#include "util.h"

#define SLOTS_FOR_ALL	  160 /* rows when tracing every syscall: more than a process uses */
#define TICK_DEFAULT_NS	  (5 * NSEC_PER_SEC)
#define TICK_KEYED_NS	  (250 * NSEC_PER_MSEC) /* note comms and descriptors while alive */
#define MIN_DEFAULT_UNIT  NSEC_PER_MSEC
#define TOP_STACKS	  10 /* stacks printed unless -T says otherwise */

struct syslat_opts {
	struct target_opts target;
	struct timing_opts timing;
	struct output_opts output;
	struct report_opts report;
	struct capture_opts capture;
	struct runtime_opts runtime;
	bool failed_only;
	int errno_only;
	uint64_t min_ns;
	bool stacks;
	bool list;
	unsigned int nsyscalls;
	unsigned int syscalls[SYSLAT_MAX_NR];
};

enum {
	OPT_PER_THREAD = 0x200,
	OPT_PER_FD,
	OPT_MIN,
	OPT_STACKS,
};

static const char doc[] =
	"Per-syscall latency of a live process or of the whole host: percentiles, errors, the "
	"descriptors waited on, the slow calls as they happen, and the threads still stuck in "
	"a syscall at the end.\v"
	"SYSCALL is a name (poll, epoll_wait, futex) or a number; all syscalls by default.\n\n"
	"Examples:\n"
	"  syslat -p 1234 -d 10s         all syscalls of process 1234, 10 s\n"
	"  syslat -p 1234 poll           only poll()\n"
	"  syslat -p 1234 --per-fd read  time per descriptor, and what it is\n"
	"  syslat -p 1234 --min 20ms     print each call slower than 20 ms\n"
	"  syslat -p 1234 --min 20ms --stacks   and where they come from\n"
	"  syslat -x -T 5                top 5 failing syscalls, host-wide\n"
	"  syslat -l                     list the syscall names\n"
	"  syslat -p 1234 -d 30s -o a.cap  kept in a capture, for stallreport\n";

static const struct argp_option options[] = {
	{ "top", 'T', "N", 0, "Print only the N rows with the most total time", 1 },
	{ "failed", 'x', NULL, 0, "Count only failed calls", 1 },
	{ "errno", 'e', "ERRNO", 0, "Count only calls failing with ERRNO (EAGAIN or 11)", 1 },
	{ "histogram", 'H', NULL, 0, "Print each row's latency histogram", 1 },
	{ "per-process", 'P', NULL, 0, "One row per process and syscall", 1 },
	{ "per-thread", OPT_PER_THREAD, NULL, 0, "One row per thread and syscall", 1 },
	{ "per-fd", OPT_PER_FD, NULL, 0,
	  "One row per process, syscall and descriptor waited on, with what it is", 1 },
	{ "min", OPT_MIN, "LATENCY", 0,
	  "Print each call slower than LATENCY as it completes (e.g. 20ms; bare numbers are ms)",
	  1 },
	{ "stacks", OPT_STACKS, NULL, 0,
	  "With --min: the user and kernel stacks of the slow calls, aggregated and symbolized", 1 },
	{ "list", 'l', NULL, 0, "List the syscall names and numbers, then exit", 1 },
	{},
};

static void unknown_syscall(const char *arg)
{
	const char *close[5];
	size_t n = syscall_suggest(arg, close, 5);
	char hint[128] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += snprintf(hint + len, sizeof(hint) - len, "%s%s", i ? ", " : "", close[i]);
	if (n)
		usage_error("unknown syscall '%s': did you mean %s? (syslat -l lists them all)", arg,
			    hint);
	usage_error("unknown syscall '%s' (syslat -l lists them all)", arg);
}

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct syslat_opts *o = state->input;
	unsigned int nr;
	uint64_t v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->target;
		state->child_inputs[1] = &o->timing;
		state->child_inputs[2] = &o->output;
		state->child_inputs[3] = &o->capture;
		state->child_inputs[4] = &o->runtime;
		break;
	case 'T':
		if (parse_u64(arg, &v) || v == 0 || v > 100000)
			argp_error(state, "invalid -T '%s': expected a number of rows", arg);
		o->report.top = v;
		break;
	case 'x':
		o->failed_only = true;
		break;
	case 'e':
		if (errno_lookup(arg, &o->errno_only))
			argp_error(state, "unknown errno '%s': expected a name like EAGAIN or a number",
				   arg);
		break;
	case 'H':
		o->report.histograms = true;
		break;
	case 'P':
		o->report.key_by |= SYSLAT_BY_PID;
		break;
	case OPT_PER_THREAD:
		o->report.key_by |= SYSLAT_BY_PID | SYSLAT_BY_TID;
		break;
	case OPT_PER_FD:
		o->report.key_by |= SYSLAT_BY_PID | SYSLAT_BY_FD;
		break;
	case OPT_MIN:
		if (parse_duration(arg, MIN_DEFAULT_UNIT, &o->min_ns) || !o->min_ns)
			argp_error(state, "invalid --min '%s': expected a latency like 20ms or 500us",
				   arg);
		break;
	case OPT_STACKS:
		o->stacks = true;
		break;
	case 'l':
		o->list = true;
		break;
	case ARGP_KEY_ARG:
		if (syscall_lookup(arg, &nr) || nr >= SYSLAT_MAX_NR)
			unknown_syscall(arg);
		if (syscall_never_returns(nr))
			argp_error(state, "%s never returns, so it has no latency", arg);
		o->syscalls[o->nsyscalls++] = nr;
		if (o->nsyscalls == SYSLAT_MAX_NR)
			argp_error(state, "too many syscalls");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &target_argp, 0, "Which tasks:", 2 },
	{ &timing_argp, 0, "When:", 3 },
	{ &output_argp, 0, "Output:", 4 },
	{ &capture_argp, 0, "Capture (for stallreport):", 5 },
	{ &runtime_argp, 0, "Interpreters (--stacks):", 6 },
	{},
};

static const struct argp argp = {
	options, parse_option, "[SYSCALL...]", doc, children, NULL, NULL,
};

static int list_syscalls(void)
{
	for (unsigned int i = 0; i < syscall_names_len; i++)
		printf("%4u  %s\n", syscall_names[i].nr, syscall_names[i].name);
	return 0;
}

/* Options to rodata, map sizes and preassigned slots: everything before load */
static int configure(struct syslat_bpf *skel, const struct syslat_opts *o)
{
	struct syslat_config *cfg = (struct syslat_config *)&skel->rodata->syslat_cfg;

	if (filter_configure((struct filter_config *)&skel->rodata->filter_cfg,
			     skel->maps.filter_ids, &o->target))
		return -1;
	cfg->min_ns = o->min_ns;
	cfg->key_by = o->report.key_by;
	cfg->failed_only = o->failed_only;
	cfg->errno_only = o->errno_only;
	cfg->need_fd = !!(o->report.key_by & SYSLAT_BY_FD);
	cfg->need_args = o->min_ns != 0;
	cfg->need_stacks = o->stacks;
	cfg->time_base_ns = monotonic_ns();
	skel->bss->epoch = 1; /* per-CPU stats start at epoch 0: stale until first used */
	if (o->nsyscalls) {
		for (unsigned int i = 0; i < o->nsyscalls; i++) {
			unsigned int nr = o->syscalls[i];

			if (cfg->selected[nr / 64] & (1ULL << (nr % 64)))
				continue;
			cfg->selected[nr / 64] |= 1ULL << (nr % 64);
			skel->bss->slot_of[nr] = ++skel->bss->slots_used;
		}
		cfg->nslots = skel->bss->slots_used;
	} else {
		for (unsigned int i = 0; i < syscall_names_len; i++) {
			unsigned int nr = syscall_names[i].nr;

			if (nr < SYSLAT_MAX_NR && !syscall_never_returns(nr))
				cfg->selected[nr / 64] |= 1ULL << (nr % 64);
		}
		cfg->nslots = SLOTS_FOR_ALL;
	}
	syslat_fd_args(cfg->fd_arg);

	if (unwinder_size(&UNWINDER_MAPS(skel), o->stacks ? 0 : 1) ||
	    bpf_map__set_max_entries(skel->maps.starts, pid_max()) ||
	    bpf_map__set_max_entries(skel->maps.start_files, cfg->need_fd ? pid_max() : 1) ||
	    bpf_map__set_max_entries(skel->maps.slots, o->report.key_by ? 1 : cfg->nslots))
		return -1;
	/* stack events are 1.6 KiB (18 KiB with a copy of the stack: a process's first calls):
	 * room for a burst of hundreds */
	if (bpf_map__set_max_entries(skel->maps.events, !o->min_ns ? getpagesize() :
							o->stacks   ? 1024 * 1024 :
								      256 * 1024))
		return -1;
	return 0;
}

struct event_ctx {
	const struct syslat_opts *opts;
	struct syslat_stacks *stacks;
	struct report_streams streams;
};

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct event_ctx *ec = ctx;

	if (size < sizeof(struct syslat_event))
		return 0;
	report_event(&ec->streams, data);
	if (ec->opts->stacks && size >= offsetof(struct syslat_stack_event, copy))
		stacks_add(ec->stacks, data,
			   size >= sizeof(struct syslat_stack_event) ?
				   &((const struct syslat_stack_event *)data)->copy :
				   NULL);
	return 0;
}

static void announce(const struct syslat_opts *o)
{
	char who[128], d[16];

	filter_describe(&o->target, who, sizeof(who));
	fprintf(stderr, "Tracing %s of %s", o->nsyscalls ? "the named syscalls" : "all syscalls",
		who);
	if (o->timing.duration_ns)
		fprintf(stderr, " for %s", format_duration(d, sizeof(d), o->timing.duration_ns));
	fprintf(stderr, "... Hit Ctrl-C to end.\n");
}

int main(int argc, char **argv)
{
	struct syslat_opts o = { .errno_only = 0 };
	struct syslat_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct unwinder *unw = NULL;
	struct syslat_collector col = {};
	struct syslat_inflight_list inflight = {};
	struct syslat_stacks stacks = {};
	struct event_ctx ec = { .opts = &o, .stacks = &stacks };
	struct session sess;
	struct tp_hook hooks[4]; /* the syscall hooks and current_cache's generation bumps */
	struct capture *cap = NULL;
	enum session_wake wake;
	int ret = EXIT_RUNTIME;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (o.list)
		return list_syscalls();
	if (o.failed_only && o.errno_only)
		usage_error("-x and -e cannot be combined (-e already counts only failed calls)");
	if (o.stacks && !o.min_ns)
		usage_error("--stacks needs --min LATENCY: the stacks are those of the slow calls");

	if ((ret = session_admit(&sess, "syslat", &o.timing, &o.target, &o.capture)))
		goto out;
	ret = EXIT_RUNTIME;
	if (capture_begin(&cap, &o.capture, "syslat", &o.target))
		goto out;
	capture_streams(cap, o.output.json, false, &ec.streams);
	if (!loader_init(o.output.verbose))
		goto out;
	if (!feature_require(FEATURE_RINGBUF, "slow-call events; Linux 5.8+") ||
	    !feature_require(FEATURE_TASK_STORAGE, "arguments of slow calls; Linux 5.11+"))
		goto out;
	skel = syslat_bpf__open();
	if (!skel) {
		warn("opening the BPF object");
		goto out;
	}
	hooks[0] = (struct tp_hook){ .category = "raw_syscalls", .name = "sys_enter",
				     .raw = skel->progs.sys_enter };
	hooks[1] = (struct tp_hook){ .category = "raw_syscalls", .name = "sys_exit",
				     .raw = skel->progs.sys_exit };
	hooks[2] = (struct tp_hook){ .category = "task", .name = "task_newtask",
				     .raw = skel->progs.current_cache_task_new };
	hooks[3] = (struct tp_hook){ .category = "sched", .name = "sched_process_exec",
				     .raw = skel->progs.current_cache_exec };
	if (configure(skel, &o) || loader_prepare_hooks(hooks, ARRAY_LEN(hooks)) || loader_load(skel->skeleton))
		goto out;
	if (filter_populate(skel->maps.filter_ids, &skel->rodata->filter_cfg, &o.target))
		goto out;
	if (o.stacks && stacks_init(&stacks, o.min_ns, &o.runtime)) {
		warnx("setting up the symbolizer failed");
		goto out;
	}
	if (o.min_ns) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, &ec, NULL);
		if (!rb) {
			warn("creating the ring buffer");
			goto out;
		}
	}
	if (o.stacks && !(unw = unwinder_new(&UNWINDER_MAPS(skel), rb, &o.target, &o.runtime)))
		goto out;
	stacks.unw = unw;
	unwinder_set_symbolizer(unw, stacks.sym);
	if (collector_init(&col, skel) || loader_attach_hooks(hooks, ARRAY_LEN(hooks)))
		goto out;
	if (session_begin(&sess, &o.timing, &o.target, rb,
			  o.report.key_by ? TICK_KEYED_NS : TICK_DEFAULT_NS, skel->obj))
		goto detach;
	announce(&o);

	while ((wake = session_wait(&sess)) != SESSION_END) {
		struct report_period p = { 0 };

		if (wake == SESSION_INTERVAL)
			p.duration_ns = session_next_interval(&sess);
		unwinder_tick(unw);
		collector_harvest(&col);
		if (wake == SESSION_INTERVAL) {
			report_print(&ec.streams, &o.report, &col, &p);
			collector_mark(&col);
		}
	}
	collector_harvest(&col);
	inflight_scan(skel, &o.target, sess.start_ns, &inflight);
	report_print(&ec.streams, &o.report, &col,
		     &(struct report_period){ .duration_ns = monotonic_ns() - sess.interval_start_ns,
					      .end_reason = sess.end_reason,
					      .inflight = &inflight,
					      .stacks = o.stacks ? &stacks : NULL,
					      .top_stacks = o.report.top ? o.report.top :
									   TOP_STACKS,
					      .session = &sess });
	if (o.output.verbose)
		unwinder_print_stats(unw);
	ret = capture_end(cap, sess.end_reason) ? EXIT_RUNTIME : 0;
	cap = NULL;
	session_end(&sess);
detach:
	loader_detach_hooks(hooks, ARRAY_LEN(hooks));
out:
	capture_abort(cap);
	ret = session_close(&sess, &col.losses, ret);
	inflight_free(&inflight);
	stacks_free(&stacks);
	collector_free(&col);
	unwinder_free(unw);
	ring_buffer__free(rb);
	syslat_bpf__destroy(skel);
	capture_opts_free(&o.capture);
	target_opts_free(&o.target);
	return ret;
}
