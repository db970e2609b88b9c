// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * offcputime: where threads block, by kernel and user stack, and why (sleeping, uninterruptible,
 * preempted).
 */
#include <argp.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "filters.h"
#include "loader.h"
#include "offcputime.h"
#include "offcputime.skel.h"
#include "offcputime_collect.h"
#include "offcpu_options.h"
#include "capture.h"
#include "offcputime_report.h"
#include "options.h"
#include "session.h"
#include "symbolizer.h"
#include "units.h"
#include "unwinder.h"
#include "util.h"

#define DEFAULT_STACK_STORAGE 1024	/* as BCC's offcputime */
#define THREAD_STARTS_RAW_TP  65536	/* threads off-CPU at once, without task storage */

struct offcpu_opts {
	struct target_opts target;
	struct output_opts output;
	struct offcpu_stack_opts stacks;
	struct capture_opts capture;
	struct runtime_opts runtime;
	struct timing_opts timing; /* the duration is an argument; -i and --max-cpu */
	uint64_t min_ns;
	uint64_t max_ns;
	uint32_t states;
};

enum {
	OPT_STATE = 0x200,
};

static const char doc[] =
	"Time threads spend off-CPU (blocked, sleeping, or preempted), by kernel and user stack, "
	"and why.\v"
	"DURATION is in seconds, or with a unit (30s, 2m); without it, until Ctrl-C.  States: S "
	"sleeping (interruptible), D uninterruptible (I/O, page faults, vfork), R preempted "
	"while runnable.\n\n"
	"Examples:\n"
	"  offcputime -p 1234 10           process 1234 for 10 seconds\n"
	"  offcputime -p 1234 -f 10 > f    folded, for flamegraph.pl\n"
	"  offcputime --state D 5          uninterruptible blocks, host-wide\n"
	"  offcputime -m 10000 -p 1234     only blocks of 10 ms or more\n"
	"  offcputime -p 1234 -o a.cap 30  kept for stallreport (flame graphs, diffs)\n";

static const struct argp_option options[] = {
	{ "min-block-time", 'm', "MIN_US", 0,
	  "Only blocks of at least MIN_US microseconds (default 1; units allowed: 10ms)", 1 },
	{ "max-block-time", 'M', "MAX_US", 0, "Only blocks of at most MAX_US microseconds", 1 },
	{ "state", OPT_STATE, "STATES", 0, "Only these states: S, D, R (e.g. S,D; default all)", 1 },
	{ "interval", 'i', "INTERVAL", 0, "Print and reset the report every INTERVAL", 1 },
	{},
};

static int parse_states(const char *s, uint32_t *out)
{
	*out = 0;
	for (const char *p = s; *p; p++) {
		if (*p == 'S')
			*out |= OFFCPU_S;
		else if (*p == 'D')
			*out |= OFFCPU_D;
		else if (*p == 'R')
			*out |= OFFCPU_R;
		else if (*p != ',')
			return -1;
	}
	return *out ? 0 : -1;
}

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct offcpu_opts *o = state->input;
	uint64_t v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->target;
		state->child_inputs[1] = &o->output;
		state->child_inputs[2] = &o->stacks;
		state->child_inputs[3] = &o->capture;
		state->child_inputs[4] = &o->runtime;
		state->child_inputs[5] = &o->timing;
		break;
	case 'm':
	case 'M':
		if (parse_duration(arg, NSEC_PER_USEC, &v))
			argp_error(state, "invalid -%c '%s': expected microseconds or a duration",
				   key, arg);
		*(key == 'm' ? &o->min_ns : &o->max_ns) = v;
		break;
	case OPT_STATE:
		if (parse_states(arg, &o->states))
			argp_error(state, "invalid --state '%s': expected S, D and R, e.g. S,D", arg);
		break;
	case 'i':
		if (parse_duration(arg, NSEC_PER_SEC, &o->timing.interval_ns) || !o->timing.interval_ns)
			argp_error(state, "invalid interval '%s': expected e.g. 5s or 500ms", arg);
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			argp_error(state, "one duration at most");
		if (parse_duration(arg, NSEC_PER_SEC, &o->timing.duration_ns) || !o->timing.duration_ns)
			argp_error(state, "invalid duration '%s': expected seconds or e.g. 30s", arg);
		break;
	case ARGP_KEY_END:
		if (o->min_ns > o->max_ns)
			argp_error(state, "-m is more than -M");
		if (o->output.json && o->stacks.report.folded)
			argp_error(state, "--json and -f cannot be combined");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &target_argp, 0, "Which tasks:", 2 },
	{ &output_argp, 0, "Output:", 3 },
	{ &offcpu_stack_argp, 0, "Stacks:", 4 },
	{ &capture_argp, 0, "Capture (for stallreport):", 5 },
	{ &runtime_argp, 0, "Interpreters:", 6 },
	{ &max_cpu_argp, 0, "Safety:", 7 },
	{},
};

static const struct argp argp = { options, parse_option, "[DURATION]", doc, children, NULL, NULL };

static int configure(struct offcputime_bpf *skel, const struct offcpu_opts *o, bool typed,
		     struct symbolizer *sym)
{
	struct offcpu_config *cfg = (struct offcpu_config *)&skel->rodata->offcpu_cfg;

	cfg->min_ns = o->min_ns;
	cfg->max_ns = o->max_ns;
	cfg->states = o->states;
	cfg->threads = o->stacks.threads;
	cfg->per_thread = o->stacks.report.per_thread;
	cfg->user_stacks = o->stacks.report.user_stacks;
	cfg->kernel_stacks = o->stacks.report.kernel_stacks;
	cfg->typed_tasks = typed;
	cfg->kstack_memo = typed && offcpu_memo_configure(
					    (struct memo_config *)&skel->rodata->memo_cfg, sym);
	if (o->output.verbose)
		fprintf(stderr, "note: kernel stacks of repeated blocks are %s\n",
			cfg->kstack_memo ? "reused from a memo (bpf_loop, bpf_task_pt_regs)" :
					   "walked every time");
	if (bpf_map__set_max_entries(skel->maps.stacks, o->stacks.stack_storage) ||
	    unwinder_size(&UNWINDER_MAPS(skel), cfg->user_stacks && typed ? 0 : 1) ||
	    bpf_map__set_max_entries(skel->maps.starts_by_tid, typed ? 1 : THREAD_STARTS_RAW_TP))
		return -1;
	return 0;
}

static void announce(const struct offcpu_opts *o)
{
	char who[128], d[16];

	filter_describe(&o->target, who, sizeof(who));
	fprintf(stderr, "Tracing off-CPU time of %s", who);
	if (o->timing.duration_ns)
		fprintf(stderr, " for %s", format_duration(d, sizeof(d), o->timing.duration_ns));
	fprintf(stderr, "... Hit Ctrl-C to end.\n");
}

int main(int argc, char **argv)
{
	struct offcpu_opts o = {
		.max_ns = UINT64_MAX,
		.min_ns = NSEC_PER_USEC,
		.states = OFFCPU_S | OFFCPU_D | OFFCPU_R,
		.stacks = { .report = { .tool = "offcputime", .user_stacks = true,
					.kernel_stacks = true },
			    .stack_storage = DEFAULT_STACK_STORAGE },
	};
	struct offcputime_bpf *skel = NULL;
	struct symbolizer *sym = NULL;
	struct unwinder *unw = NULL;
	struct offcpu_collector col = {};
	struct ring_buffer *rb = NULL;
	struct session sess;
	struct tp_hook hook;
	struct capture *cap = NULL;
	struct report_streams streams;
	enum session_wake wake;
	uint64_t end_ns;
	int ret = EXIT_RUNTIME;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);

	if ((ret = session_admit(&sess, "offcputime", &o.timing, &o.target, &o.capture)))
		goto out;
	ret = EXIT_RUNTIME;
	if (capture_begin(&cap, &o.capture, "offcputime", &o.target))
		goto out;
	capture_streams(cap, o.output.json, o.stacks.report.folded, &streams);
	if (!loader_init(o.output.verbose) ||
	    !feature_require(FEATURE_RINGBUF, "notes of new processes; Linux 5.8+"))
		goto out;
	skel = offcputime_bpf__open();
	if (!skel) {
		warn("opening the BPF object");
		goto out;
	}
	hook = (struct tp_hook){ .category = "sched", .name = "sched_switch",
				 .raw = skel->progs.sched_switch_raw,
				 .btf = skel->progs.sched_switch_btf };
	sym = symbolizer_for(&o.runtime);
	if (!sym) {
		warn("setting up the symbolizer");
		goto out;
	}
	if (filter_configure((struct filter_config *)&skel->rodata->filter_cfg,
			     skel->maps.filter_ids, &o.target) ||
	    loader_prepare_hooks(&hook, 1) ||
	    configure(skel, &o, hook.flavour == HOOK_TP_BTF, sym))
		goto out;
	if (hook.flavour == HOOK_TP_BTF && !feature_require(FEATURE_TASK_STORAGE, "Linux 5.11+"))
		goto out;
	if (loader_load(skel->skeleton) ||
	    filter_populate(skel->maps.filter_ids, &skel->rodata->filter_cfg, &o.target))
		goto out;
	rb = offcpu_new_processes(skel->maps.new_processes, sym);
	if (!rb)
		goto out;
	unw = unwinder_new(&UNWINDER_MAPS(skel), rb, &o.target, &o.runtime);
	if (!unw)
		goto out;
	unwinder_set_symbolizer(unw, sym);
	/* the targets are noted now: their stacks resolve even if they exit before the report */
	for (size_t i = 0; i < o.target.pids.len; i++)
		symbolizer_note_process_once(sym, o.target.pids.ids[i]);
	if (offcpu_collector_init(&col, &OFFCPU_MAPS(skel), &hook, rb))
		goto out;
	if (loader_attach_hooks(&hook, 1))
		goto out;
	if (session_begin(&sess, &o.timing, &o.target, rb, NSEC_PER_SEC, skel->obj))
		goto detach;
	announce(&o);

	while ((wake = session_wait(&sess)) != SESSION_END) {
		if (wake != SESSION_INTERVAL) {
			offcpu_tick(&col, unw, sym, &o.stacks.report);
			continue;
		}
		uint64_t length = session_next_interval(&sess);

		offcpu_collector_harvest(&col);
		offcpu_report(&streams, &o.stacks.report, &col, sym,
			      &(struct offcpu_period){ .duration_ns = length,
						       .stack_storage_size = o.stacks.stack_storage });
		offcpu_collector_mark(&col);
	}
	/* blocks still going on at the end are not counted: they have not ended */
	loader_detach_hooks(&hook, 1);
	end_ns = monotonic_ns(); /* the window traced: what the report's harvest takes is not */
	ring_buffer__consume(rb);
	offcpu_collector_harvest(&col);
	offcpu_report(&streams, &o.stacks.report, &col, sym,
		      &(struct offcpu_period){ .duration_ns = end_ns - sess.interval_start_ns,
					       .end_reason = sess.end_reason,
					       .stack_storage_size = o.stacks.stack_storage,
					       .session = &sess });
	if (o.output.verbose)
		offcpu_print_notes(&col, unw);
	ret = capture_end(cap, sess.end_reason) ? EXIT_RUNTIME : 0;
	cap = NULL;
	session_end(&sess);
detach:
	loader_detach_hooks(&hook, 1);
out:
	capture_abort(cap);
	ret = session_close(&sess, &col.losses, ret);
	capture_opts_free(&o.capture);
	offcpu_collector_free(&col);
	unwinder_free(unw);
	ring_buffer__free(rb);
	symbolizer_free(sym);
	offcputime_bpf__destroy(skel);
	target_opts_free(&o.target);
	return ret;
}
