// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * profile: where threads run, by kernel and user stack, from samples of a CPU clock; with
 * --wall, where the traced threads spend all of their time, running or not.
 */
#include <argp.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_clock.h"
#include "filters.h"
#include "loader.h"
#include "maps.h"
#include "offcputime_collect.h"
#include "offcpu_options.h"
#include "capture.h"
#include "offcputime_report.h"
#include "options.h"
#include "profile.h"
#include "profile.skel.h"
#include "session.h"
#include "symbolizer.h"
#include "units.h"
#include "unwinder.h"
#include "util.h"

#define DEFAULT_HZ	      49   /* not a divisor of common timer rates: no lockstep */
#define DEFAULT_STACK_STORAGE 8192 /* 8 MiB: a minute of a busy host's distinct stacks */
#define WALL_THREADS	      32768 /* threads --wall follows (2 MiB) */

struct profile_opts {
	struct target_opts target;
	struct output_opts output;
	struct offcpu_stack_opts stacks;
	struct capture_opts capture;
	struct runtime_opts runtime;
	struct timing_opts timing; /* the duration is an argument; --max-cpu */
	uint64_t freq_hz;   /* -F, or 0 with -c */
	uint64_t period_ns; /* -c */
	int cpu;	    /* -C, or -1 */
	bool idle;
};

enum {
	OPT_WALL = 0x200,
};

static const char doc[] =
	"Where threads run, by kernel and user stack, from samples of a CPU clock on every CPU; "
	"with --wall, where the traced threads spend all of their time: running, sleeping (S), "
	"uninterruptible (D) or preempted (R).\v"
	"DURATION is in seconds, or with a unit (30s, 2m); without it, until Ctrl-C.  With -c, "
	"COUNT is nanoseconds of CPU time (the CPU clock's unit).\n\n"
	"Examples:\n"
	"  profile -p 1234 10               process 1234 for 10 seconds, at 49 Hz\n"
	"  profile -F 99 -f 30 > out.folded folded, for flamegraph.pl\n"
	"  profile --wall -p 1234 -f 10     running and waiting, in one flame graph\n"
	"  profile -C 1 -K 5                kernel stacks of CPU 1\n"
	"  profile -p 1234 -o cpu.cap 30    kept for stallreport (flame graphs, pprof)\n";

static const struct argp_option options[] = {
	{ "frequency", 'F', "HZ", 0, "Samples a second on each CPU (default 49)", 1 },
	{ "count", 'c', "COUNT", 0, "A sample every COUNT nanoseconds of CPU time instead", 1 },
	{ "cpu", 'C', "CPU", 0, "Only this CPU", 1 },
	{ "include-idle", 'I', NULL, 0, "Samples of idle CPUs too", 1 },
	{ "wall", OPT_WALL, NULL, 0,
	  "Wall-clock time of the threads of -p or -t: on-CPU samples and off-CPU blocks in one "
	  "set of stacks, the leaf saying [on-cpu], [S], [D] or [R]", 1 },
	{},
};

static void parse_rate(struct argp_state *state, struct profile_opts *o, int key,
		       const char *arg)
{
	uint64_t max = cpu_clock_max_rate(), v;

	if (o->freq_hz != DEFAULT_HZ || o->period_ns)
		argp_error(state, "-F and -c cannot be combined, nor given twice");
	if (parse_u64(arg, &v) || v == 0)
		argp_error(state, "invalid -%c '%s': expected a positive number", key, arg);
	if (key == 'F' && max && v > max)
		argp_error(state, "-F %s is above the kernel's limit of %llu samples a second "
			   "(kernel.perf_event_max_sample_rate)", arg, (unsigned long long)max);
	if (key == 'c' && v < CPU_CLOCK_MIN_PERIOD_NS)
		argp_error(state, "-c %s: the CPU clock samples at most every %d ns", arg,
			   CPU_CLOCK_MIN_PERIOD_NS);
	if (key == 'F') {
		o->freq_hz = v;
	} else {
		o->freq_hz = 0;
		o->period_ns = v;
	}
}

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct profile_opts *o = state->input;
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
	case 'F':
	case 'c':
		parse_rate(state, o, key, arg);
		break;
	case 'C':
		if (parse_u64(arg, &v) || v >= (uint64_t)possible_cpus())
			argp_error(state, "invalid -C '%s': this machine's CPUs are 0-%d", arg,
				   possible_cpus() - 1);
		o->cpu = v;
		break;
	case 'I':
		o->idle = true;
		break;
	case OPT_WALL:
		o->stacks.report.wall = true;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			argp_error(state, "one duration at most");
		if (parse_duration(arg, NSEC_PER_SEC, &o->timing.duration_ns) || !o->timing.duration_ns)
			argp_error(state, "invalid duration '%s': expected seconds or e.g. 30s", arg);
		break;
	case ARGP_KEY_END:
		if (o->output.json && o->stacks.report.folded)
			argp_error(state, "--json and -f cannot be combined");
		if (o->stacks.report.wall && ((!o->target.pids.len && !o->target.tids.len) ||
				       o->target.comm || o->target.cgroup))
			argp_error(state, "--wall needs -p or -t (and only those): the threads "
					  "whose time it accounts for");
		if (o->stacks.report.wall && o->idle)
			argp_error(state, "--wall and -I cannot be combined");
		if (o->stacks.report.wall && o->cpu >= 0)
			argp_error(state, "--wall and -C cannot be combined: the threads' time on "
					  "the other CPUs would be missing");
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

static int configure(struct profile_bpf *skel, const struct profile_opts *o, uint64_t period_ns,
		     struct symbolizer *sym)
{
	struct offcpu_config *cfg = (struct offcpu_config *)&skel->rodata->offcpu_cfg;
	struct profile_config *pc = (struct profile_config *)&skel->rodata->profile_cfg;

	pc->period_ns = period_ns;
	pc->idle = o->idle;
	cfg->max_ns = UINT64_MAX;
	cfg->states = OFFCPU_S | OFFCPU_D | OFFCPU_R;
	cfg->threads = o->stacks.threads;
	cfg->per_thread = o->stacks.report.per_thread;
	cfg->user_stacks = o->stacks.report.user_stacks;
	cfg->kernel_stacks = o->stacks.report.kernel_stacks;
	cfg->typed_tasks = true;
	cfg->wall = o->stacks.report.wall;
	cfg->kstack_memo = o->stacks.report.wall &&
			   offcpu_memo_configure((struct memo_config *)&skel->rodata->memo_cfg, sym);
	bpf_program__set_autoload(skel->progs.sched_switch, o->stacks.report.wall);
	bpf_program__set_autoload(skel->progs.open_blocks, o->stacks.report.wall);
	if (bpf_map__set_max_entries(skel->maps.stacks, o->stacks.stack_storage) ||
	    bpf_map__set_max_entries(skel->maps.wall_seen, o->stacks.report.wall ? WALL_THREADS : 1) ||
	    unwinder_size(&UNWINDER_MAPS(skel), o->stacks.report.user_stacks ? 0 : 1))
		return -1;
	return 0;
}

static void announce(const struct profile_opts *o, const struct cpu_clock *clock)
{
	char who[128], d[16];

	filter_describe(&o->target, who, sizeof(who));
	fprintf(stderr, "Sampling %s%s every %s of CPU time",
		o->stacks.report.wall ? "and timing " : "", who,
		format_duration(d, sizeof(d), clock->period_ns));
	if (o->cpu >= 0)
		fprintf(stderr, " on CPU %d", o->cpu);
	if (o->timing.duration_ns)
		fprintf(stderr, " for %s", format_duration(d, sizeof(d), o->timing.duration_ns));
	fprintf(stderr, "... Hit Ctrl-C to end.\n");
}

/* The samples the clock was due for that the program did not take, beyond one a CPU (the last
 * may be due as the clock stops); *taken: the samples taken, whoever they were of */
static uint64_t samples_missed(struct profile_bpf *skel, const struct cpu_clock *clock)
{
	int ncpus = possible_cpus();
	uint64_t *runs = calloc(ncpus, sizeof(*runs)), missed = 0;
	__u32 zero = 0;

	if (!runs || bpf_map__lookup_elem(skel->maps.sample_runs, &zero, sizeof(zero), runs,
					  ncpus * sizeof(*runs), 0)) {
		free(runs);
		return 0;
	}
	for (int cpu = 0; cpu < ncpus; cpu++) {
		uint64_t due = cpu_clock_expected(clock, cpu);

		if (due > runs[cpu] + 1)
			missed += due - runs[cpu] - 1;
	}
	free(runs);
	return missed;
}

int main(int argc, char **argv)
{
	struct profile_opts o = {
		.freq_hz = DEFAULT_HZ,
		.cpu = -1,
		.stacks = { .report = { .tool = "profile", .user_stacks = true,
					.kernel_stacks = true },
			    .stack_storage = DEFAULT_STACK_STORAGE },
	};
	struct profile_bpf *skel = NULL;
	struct symbolizer *sym = NULL;
	struct unwinder *unw = NULL;
	struct offcpu_collector col = {};
	struct ring_buffer *rb = NULL;
	struct cpu_clock clock = {};
	struct session sess;
	struct tp_hook hook = { .category = "sched", .name = "sched_switch",
				.flavour = HOOK_TP_BTF };
	uint64_t start_ns, end_ns;
	struct capture *cap = NULL;
	struct report_streams streams;
	int ret = EXIT_RUNTIME;
	bool wall;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	wall = o.stacks.report.wall;
	o.stacks.report.samples = !wall;

	if ((ret = session_admit(&sess, "profile", &o.timing, &o.target, &o.capture)))
		goto out;
	ret = EXIT_RUNTIME;
	if (capture_begin(&cap, &o.capture, "profile", &o.target))
		goto out;
	capture_streams(cap, o.output.json, o.stacks.report.folded, &streams);
	if (!loader_init(o.output.verbose) ||
	    !feature_require(FEATURE_RINGBUF, "notes of new processes; Linux 5.8+"))
		goto out;
	if (wall && (!feature_require(FEATURE_TP_BTF, "--wall; Linux 5.5+") ||
		     !feature_require(FEATURE_TASK_STORAGE, "--wall; Linux 5.11+")))
		goto out;
	skel = profile_bpf__open();
	if (!skel) {
		warn("opening the BPF object");
		goto out;
	}
	hook.btf = skel->progs.sched_switch;
	sym = symbolizer_for(&o.runtime);
	if (!sym) {
		warn("setting up the symbolizer");
		goto out;
	}
	if (cpu_clock_open(&clock, o.freq_hz, o.period_ns, o.cpu) ||
	    filter_configure((struct filter_config *)&skel->rodata->filter_cfg,
			     skel->maps.filter_ids, &o.target) ||
	    configure(skel, &o, clock.period_ns, sym) || loader_load(skel->skeleton) ||
	    filter_populate(skel->maps.filter_ids, &skel->rodata->filter_cfg, &o.target))
		goto out;
	rb = offcpu_new_processes(skel->maps.new_processes, sym);
	if (!rb)
		goto out;
	unw = unwinder_new(&UNWINDER_MAPS(skel), rb, &o.target, &o.runtime);
	if (!unw)
		goto out;
	unwinder_set_symbolizer(unw, sym);
	for (size_t i = 0; i < o.target.pids.len; i++)
		symbolizer_note_process_once(sym, o.target.pids.ids[i]);
	if (offcpu_collector_init(&col, &OFFCPU_MAPS(skel), wall ? &hook : NULL, rb))
		goto out;
	start_ns = monotonic_ns();
	skel->bss->wall_start_ns = start_ns;
	if ((wall && loader_attach_hooks(&hook, 1)) ||
	    cpu_clock_attach(&clock, skel->progs.cpu_sample))
		goto out;
	if (session_begin(&sess, &o.timing, &o.target, rb, NSEC_PER_SEC, skel->obj))
		goto out;
	announce(&o, &clock);

	while (session_wait(&sess) != SESSION_END) {
		offcpu_tick(&col, unw, sym, &o.stacks.report);
	}
	cpu_clock_stop(&clock);
	loader_detach_hooks(&hook, 1);
	end_ns = monotonic_ns();
	skel->bss->wall_end_ns = end_ns;
	if (wall && loader_run_iter(skel->progs.open_blocks))
		goto end;
	ring_buffer__consume(rb);
	offcpu_collector_harvest(&col);
	col.losses.count[LOSS_SAMPLES_MISSED] = samples_missed(skel, &clock);
	offcpu_report(&streams, &o.stacks.report, &col, sym,
		      &(struct offcpu_period){ .duration_ns = end_ns - start_ns,
					       .end_reason = sess.end_reason,
					       .stack_storage_size = o.stacks.stack_storage,
					       .session = &sess });
	if (o.output.verbose)
		offcpu_print_notes(&col, unw);
	ret = capture_end(cap, sess.end_reason) ? EXIT_RUNTIME : 0;
	cap = NULL;
end:
	session_end(&sess);
out:
	capture_abort(cap);
	cpu_clock_close(&clock);
	loader_detach_hooks(&hook, 1);
	ret = session_close(&sess, &col.losses, ret);
	capture_opts_free(&o.capture);
	offcpu_collector_free(&col);
	unwinder_free(unw);
	ring_buffer__free(rb);
	symbolizer_free(sym);
	profile_bpf__destroy(skel);
	target_opts_free(&o.target);
	return ret;
}
