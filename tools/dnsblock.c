// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnsblock: name lookups that threads wait on: the name, the answer or error, how long, how
 * much of it blocked, and from which caller; through the C library's resolver calls and, for
 * any resolver, through the DNS messages themselves.
 */
#include <argp.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include "dnsblock.h"
#include "filter.h" /* before the skeleton, which has a filter_config */
#include "dnsblock.skel.h"
#include "dnsblock_probes.h"
#include "dnsblock_report.h"
#include "dnsblock_track.h"
#include "filters.h"
#include "loader.h"
#include "maps.h"
#include "options.h"
#include "privileges.h"
#include "session.h"
#include "symbolizer.h"
#include "units.h"
#include "unwinder.h"

#define DEFAULT_TIMEOUT (5 * NSEC_PER_SEC) /* glibc's wait for an answer before it retries */
#define TICK		(100 * NSEC_PER_MSEC) /* events are drained, timeouts noticed */

struct dns_opts {
	struct target_opts target;
	struct output_opts output;
	struct capture_opts capture;
	struct runtime_opts runtime;
	struct timing_opts timing; /* -d and --max-cpu */
	uint64_t min_ns;
	uint64_t timeout_ns;
	bool stacks;
};

enum {
	OPT_MIN = 0x200,
	OPT_STACKS,
	OPT_TIMEOUT,
};

static const char doc[] =
	"Name lookups that threads wait on: the name, the result, the latency, the time the "
	"thread was blocked, and the caller; through the C library's resolver functions and, "
	"whatever the resolver (c-ares, Go, static or musl programs), the DNS messages sent to "
	"port 53.\v"
	"Examples:\n"
	"  dnsblock                        every lookup on the host, as it completes\n"
	"  dnsblock -p 1234 --stacks       lookups of process 1234, with the caller's stack\n"
	"  dnsblock --min 100ms -d 5m      lookups of 100 ms or more, for five minutes\n"
	"  dnsblock --json > lookups.json  JSON lines, and a summary object at the end\n"
	"  dnsblock --stacks -o dns.cap    kept for stallreport (flame graphs of the callers)\n";

static const struct argp_option options[] = {
	{ "min", OPT_MIN, "LATENCY", 0, "Only lookups that took at least LATENCY (e.g. 50ms)", 1 },
	{ "stacks", OPT_STACKS, NULL, 0, "The caller's stack under each resolver call", 1 },
	{ "duration", 'd', "DURATION", 0, "Stop after DURATION (e.g. 30s, 5m)", 1 },
	{ "timeout", OPT_TIMEOUT, "DURATION", 0,
	  "A query without a response for this long timed out (default 5s)", 1 },
	{},
};

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct dns_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->target;
		state->child_inputs[1] = &o->output;
		state->child_inputs[2] = &o->capture;
		state->child_inputs[3] = &o->runtime;
		state->child_inputs[4] = &o->timing;
		break;
	case OPT_MIN:
		if (parse_duration(arg, NSEC_PER_MSEC, &o->min_ns))
			argp_error(state, "invalid --min '%s': expected e.g. 100ms or 1.5s", arg);
		break;
	case OPT_STACKS:
		o->stacks = true;
		break;
	case 'd':
		if (parse_duration(arg, NSEC_PER_SEC, &o->timing.duration_ns) || !o->timing.duration_ns)
			argp_error(state, "invalid duration '%s': expected e.g. 30s or 5m", arg);
		break;
	case OPT_TIMEOUT:
		if (parse_duration(arg, NSEC_PER_SEC, &o->timeout_ns) || !o->timeout_ns)
			argp_error(state, "invalid --timeout '%s': expected e.g. 5s or 500ms", arg);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &target_argp, 0, "Which tasks:", 2 },
	{ &output_argp, 0, "Output:", 3 },
	{ &capture_argp, 0, "Capture (for stallreport):", 4 },
	{ &runtime_argp, 0, "Interpreters (--stacks):", 5 },
	{ &max_cpu_argp, 0, "Safety:", 6 },
	{},
};

static const struct argp argp = { options, parse_option, NULL, doc, children, NULL, NULL };

/* Resolver calls that have not returned: threads in one */
static size_t calls_in_progress(struct dnsblock_bpf *skel)
{
	void *keys = NULL, *values = NULL;
	long n = map_dump(skel->maps.threads, &keys, &values);
	size_t calls = 0;

	for (long i = 0; i < n; i++)
		calls += ((struct dns_thread *)values)[i].depth > 0;
	free(keys);
	free(values);
	return calls;
}

static void announce(const struct dns_opts *o, const struct dns_probes *probes)
{
	char who[128], d[16];

	filter_describe(&o->target, who, sizeof(who));
	fprintf(stderr, "Tracing DNS lookups of %s (resolver calls in %zu C librar%s%s)", who,
		probes->libraries, probes->libraries == 1 ? "y" : "ies",
		probes->wire ? ", DNS messages" : "");
	if (o->timing.duration_ns)
		fprintf(stderr, " for %s", format_duration(d, sizeof(d), o->timing.duration_ns));
	fprintf(stderr, "... Hit Ctrl-C to end.\n");
}

int main(int argc, char **argv)
{
	struct dns_opts o = { .timeout_ns = DEFAULT_TIMEOUT };
	struct dnsblock_bpf *skel = NULL;
	struct symbolizer *sym = NULL;
	struct dns_probes probes = {};
	struct dns_tracker tracker;
	struct dns_report report;
	struct dns_session_facts facts = {};
	struct ring_buffer *rb = NULL;
	struct unwinder *unw = NULL;
	struct session sess;
	struct tp_hook hook;
	struct capture *cap = NULL;
	struct report_streams streams;
	int ret = EXIT_RUNTIME;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	/* creating uprobes needs CAP_SYS_ADMIN: given up once they and the wire are attached */
	privileges_keep(CAP_SYS_ADMIN);

	if ((ret = session_admit(&sess, "dnsblock", &o.timing, &o.target, &o.capture)))
		goto out;
	ret = EXIT_RUNTIME;
	if (capture_begin(&cap, &o.capture, "dnsblock", &o.target))
		goto out;
	capture_streams(cap, o.output.json, false, &streams);
	if (!loader_init(o.output.verbose) ||
	    !feature_require(FEATURE_RINGBUF, "lookups as they complete; Linux 5.8+") ||
	    !feature_require(FEATURE_UPROBE, "the C library's resolver functions"))
		goto out;
	skel = dnsblock_bpf__open();
	if (!skel) {
		warn("opening the BPF object");
		goto out;
	}
	hook = (struct tp_hook){ .category = "sched", .name = "sched_switch",
				 .raw = skel->progs.sched_switch };
	if (filter_configure((struct filter_config *)&skel->rodata->filter_cfg,
			     skel->maps.filter_ids, &o.target) ||
	    loader_prepare_hooks(&hook, 1))
		goto out;
	skel->rodata->dns_cfg.stacks = o.stacks;
	if (unwinder_size(&UNWINDER_MAPS(skel), o.stacks ? 0 : 1))
		goto out;
	if (loader_load(skel->skeleton) ||
	    filter_populate(skel->maps.filter_ids, &skel->rodata->filter_cfg, &o.target))
		goto out;
	if (o.stacks && !(sym = symbolizer_for(&o.runtime))) {
		warn("setting up the symbolizer");
		goto out;
	}
	report_init(&report, &streams, &(struct dns_report_opts){ .stacks = o.stacks,
								   .min_ns = o.min_ns }, sym);
	tracker_init(&tracker, o.timeout_ns, sym, report_lookup, &report);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), tracker_event, &tracker, NULL);
	if (!rb) {
		warn("setting up the ring buffer");
		goto free_report;
	}
	if (o.stacks && !(unw = unwinder_new(&UNWINDER_MAPS(skel), rb, &o.target, &o.runtime)))
		goto free_report;
	tracker.unw = unw;
	unwinder_set_symbolizer(unw, sym);
	if (loader_attach_hooks(&hook, 1) ||
	    resolver_probes_attach(&probes, skel->progs.call_enter, skel->progs.call_exit,
				   &o.target, o.output.verbose))
		goto detach;
	/* without the wire the resolver calls are still seen: a warning, not an end */
	wire_probes_attach(&probes, skel->progs.dns_egress, skel->progs.dns_ingress,
			   o.output.verbose);
	if (privileges_done(CAP_SYS_ADMIN)) {
		warn("giving up CAP_SYS_ADMIN");
		goto detach;
	}
	if (session_begin(&sess, &o.timing, &o.target, rb, TICK, skel->obj))
		goto detach;
	announce(&o, &probes);

	/* events wake the session only in bulk (bpf/dnsblock.bpf.c): each tick drains them */
	while (session_wait(&sess) != SESSION_END) {
		ring_buffer__consume(rb);
		tracker_expire(&tracker, monotonic_ns());
		unwinder_tick(unw);
	}

	/* the report first: detaching uprobes takes the kernel a while */
	ring_buffer__consume(rb);
	tracker_expire(&tracker, monotonic_ns());
	facts.duration_ns = monotonic_ns() - sess.start_ns;
	facts.end_reason = sess.end_reason;
	facts.session = &sess;
	facts.in_progress = calls_in_progress(skel) + tracker_wire_in_progress(&tracker);
	facts.late_responses = tracker.late_responses;
	facts.abandoned_calls = tracker.abandoned_calls;
	facts.unreadable = tracker.unreadable;
	losses_read(skel->maps.losses, &facts.losses);
	report_summary(&report, &facts);
	if (o.output.verbose)
		unwinder_print_stats(unw);
	ret = capture_end(cap, sess.end_reason) ? EXIT_RUNTIME : 0;
	cap = NULL;
	session_end(&sess);
detach:
	dns_probes_detach(&probes);
	loader_detach_hooks(&hook, 1);
free_report:
	tracker_free(&tracker);
	report_free(&report);
	unwinder_free(unw);
out:
	capture_abort(cap);
	ret = session_close(&sess, &facts.losses, ret);
	capture_opts_free(&o.capture);
	ring_buffer__free(rb);
	symbolizer_free(sym);
	dnsblock_bpf__destroy(skel);
	target_opts_free(&o.target);
	return ret;
}
