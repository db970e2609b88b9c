// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpretrans: TCP retransmissions as they happen, with their kind (timeout, fast retransmit,
 * tail-loss probe, SYN, SYN-ACK), the socket's state and owner; with --drops, the TCP packets
 * the kernel dropped, with the kernel's reason and stack.
 */
#include <argp.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "tcpretrans.h"
#include "filter.h" /* before the skeleton, which has a filter_config */
#include "tcpretrans.skel.h"
#include "tcpretrans_owner.h"
#include "tcpretrans_report.h"
#include "filters.h"
#include "kconfig.h"
#include "kernel_btf.h"
#include "loader.h"
#include "loss_user.h"
#include "options.h"
#include "procfs.h"
#include "capture.h"
#include "session.h"
#include "symbolizer.h"
#include "units.h"
#include "util.h"

struct tcpr_opts {
	struct target_opts target;
	struct timing_opts timing;
	struct output_opts output;
	struct tcpr_report_opts report;
	struct capture_opts capture;
	int family;
};

enum {
	OPT_DROPS = 0x200,
};

static const char doc[] =
	"TCP retransmissions as they happen: the connection, the process that owns the socket, "
	"the socket's state, and the kind (RTO: the retransmission timer expired; FAST: fast "
	"retransmit; TLP: tail-loss probe; SYN, SYNACK: a handshake packet again), with the "
	"socket's smoothed RTT, RTO, congestion window and retransmissions so far.  With "
	"--drops, also the TCP packets the kernel dropped, with its reason and the kernel "
	"stack.\v"
	"Examples:\n"
	"  tcpretrans                      every retransmission on the host, as it happens\n"
	"  tcpretrans --drops              and every TCP packet the kernel drops, and why\n"
	"  tcpretrans -c -i 10s            counts per connection and remote host, every 10 s\n"
	"  tcpretrans -p 1234 -s           retransmissions of process 1234's sockets, with "
	"sequence numbers\n"
	"  tcpretrans --json -d 1m         JSON lines for a minute, and a summary at the end\n"
	"  tcpretrans --drops -o d.cap     kept for stallreport\n";

static const struct argp_option options[] = {
	{ "lossprobe", 'l', NULL, 0,
	  "Accepted for BCC's tcpretrans: tail-loss probes are always "
	  "shown (KIND TLP, T> L>)",
	  1 },
	{ "count", 'c', NULL, 0,
	  "Count per connection, per remote host and per drop reason "
	  "instead of a line per event",
	  1 },
	{ "ipv4", '4', NULL, 0, "IPv4 only", 1 },
	{ "ipv6", '6', NULL, 0, "IPv6 only", 1 },
	{ "sequence", 's', NULL, 0, "Show each packet's sequence number", 1 },
	{ "drops", OPT_DROPS, NULL, 0, "Also TCP packets the kernel dropped: reason and stack", 1 },
	{},
};

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct tcpr_opts *o = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->target;
		state->child_inputs[1] = &o->timing;
		state->child_inputs[2] = &o->output;
		state->child_inputs[3] = &o->capture;
		break;
	case 'l':
		break;
	case 'c':
		o->report.count = true;
		break;
	case '4':
	case '6':
		if (o->family)
			argp_error(state, "-4 and -6 cannot be combined");
		o->family = key == '4' ? AF_INET : AF_INET6;
		break;
	case 's':
		o->report.sequence = true;
		break;
	case OPT_DROPS:
		o->report.drops = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->target.tids.len)
			argp_error(state,
				   "-t: a socket belongs to a process, not a thread; use -p");
		if (o->timing.interval_ns && !o->report.count)
			argp_error(state, "-i needs -c: intervals are of counts");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &target_argp, 0, "Whose sockets (the process that owns them):", 2 },
	{ &timing_argp, 0, "How long:", 3 },
	{ &output_argp, 0, "Output:", 4 },
	{ &capture_argp, 0, "Capture (for stallreport):", 5 },
	{},
};

static const struct argp argp = { options, parse_option, NULL, doc, children, NULL, NULL };

enum hook_index {
	HOOK_RETRANSMIT,
	HOOK_SYNACK,
	HOOK_STATE,
	HOOK_SEND,
	HOOK_RECV,
	HOOK_DROP,
	HOOKS,
};

/* The tracepoints and their programs; those this kernel lacks, or that the options do not
 * need, are left out (n is how many remain at the front of hooks) */
static size_t hooks_choose(struct tcpretrans_bpf *skel, const struct tcpr_opts *o,
			   struct tp_hook *hooks)
{
	struct bpf_program *progs[HOOKS][2] = {
		{ skel->progs.retransmit, skel->progs.retransmit_classic },
		{ skel->progs.retransmit_synack_raw, skel->progs.retransmit_synack_classic },
		{ skel->progs.set_state, skel->progs.set_state_classic },
		{ skel->progs.send_length, skel->progs.send_length_classic },
		{ skel->progs.recv_length, skel->progs.recv_length_classic },
		{ skel->progs.kfree_skb, skel->progs.kfree_skb_classic },
	};
	static const char *const names[HOOKS][2] = {
		{ "tcp", "tcp_retransmit_skb" },   { "tcp", "tcp_retransmit_synack" },
		{ "sock", "inet_sock_set_state" }, { "sock", "sock_send_length" },
		{ "sock", "sock_recv_length" },	   { "skb", "kfree_skb" },
	};
	size_t n = 0;

	for (size_t i = 0; i < HOOKS; i++) {
		bool wanted = i != HOOK_DROP || o->report.drops;

		/* the owner hooks came in Linux 6.4: without them, /proc tells owners */
		if (wanted && i >= HOOK_SEND && i <= HOOK_RECV &&
		    kernel_tracepoint_args(names[i][1]) < 0) {
			warnx("note: this kernel has no tracepoint sock:%s; socket owners are "
			      "found through /proc only",
			      names[i][1]);
			wanted = false;
		}
		if (!wanted) {
			bpf_program__set_autoload(progs[i][0], false);
			bpf_program__set_autoload(progs[i][1], false);
			continue;
		}
		hooks[n++] = (struct tp_hook){ .category = names[i][0],
					       .name = names[i][1],
					       .raw = progs[i][0],
					       .classic = progs[i][1] };
	}
	return n;
}

static int configure(struct tcpretrans_bpf *skel, const struct tcpr_opts *o)
{
	struct tcpr_config *cfg = (struct tcpr_config *)&skel->rodata->tcpr_cfg;
	long hz = 0;

	if (filter_configure((struct filter_config *)&skel->rodata->filter_cfg,
			     skel->maps.filter_ids, &o->target))
		return -1;
	if (kconfig_number("CONFIG_HZ", &hz) || hz <= 0)
		warnx("note: the kernel's CONFIG_HZ is not known (no /boot/config-* or "
		      "/proc/config.gz): RTO is not shown");
	cfg->hz = hz > 0 ? hz : 0;
	cfg->family = o->family;
	cfg->filtered = o->target.pids.len || o->target.comm || o->target.cgroup;
	cfg->retransmit_err = kernel_tracepoint_args("tcp_retransmit_skb") >= 3;
	cfg->kfree_rx_sk = kernel_tracepoint_args("kfree_skb") >= 4;
	/* only drops have stacks */
	return o->report.drops ? 0 : bpf_map__set_max_entries(skel->maps.stacks, 1);
}

/* What the ring buffer's callback needs */
struct tcpr_run {
	struct tcpr_report *report;
	const struct target_opts *target;
	struct socket_owners owners;
	bool filtered;
	uint64_t owner_unknown;
	uint64_t unattributed;
};

/* -p or --comm for an owner found in /proc (BPF applied them to the owners it saw) */
static bool target_wants(pid_t pid, const char *comm, void *ctx)
{
	const struct target_opts *t = ctx;

	if (t->cgroup)
		return false; /* cannot be told from here: counted as not attributed */
	if (t->pids.len && !id_list_contains(&t->pids, pid))
		return false;
	return !t->comm || !strcmp(t->comm, comm);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tcpr_run *run = ctx;
	struct tcpr_event e;
	pid_t holder;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	/* the process with the socket open, if BPF did not see one use it (for a drop, it may
	 * have named the listener's owner instead) */
	holder = socket_owner(&run->owners, e.socket_inode);
	if (holder && (uint32_t)holder != e.pid) {
		e.pid = holder;
		proc_comm(e.pid, e.comm, sizeof(e.comm));
		if (run->filtered && !target_wants(e.pid, e.comm, (void *)run->target))
			return 0;
	}
	if (!e.pid && run->filtered) {
		run->unattributed++;
		return 0;
	}
	run->owner_unknown += !e.pid;
	tcpr_report_event(run->report, &e);
	return 0;
}

static void announce(const struct tcpr_opts *o)
{
	char who[128], d[16];

	filter_describe(&o->target, who, sizeof(who));
	fprintf(stderr, "Tracing TCP retransmissions%s of sockets of %s",
		o->report.drops ? " and drops" : "", who);
	if (o->timing.duration_ns)
		fprintf(stderr, " for %s", format_duration(d, sizeof(d), o->timing.duration_ns));
	fprintf(stderr, "... Hit Ctrl-C to end.\n");
}

int main(int argc, char **argv)
{
	struct tcpr_opts o = {};
	struct tcpretrans_bpf *skel = NULL;
	struct symbolizer *sym = NULL;
	struct ring_buffer *rb = NULL;
	struct tcpr_report report;
	struct tcpr_facts facts = {};
	struct tcpr_run run = {};
	struct tp_hook hooks[HOOKS];
	struct session sess;
	enum session_wake wake;
	size_t nhooks = 0;
	struct capture *cap = NULL;
	struct report_streams streams;
	int ret = EXIT_RUNTIME;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);

	if ((ret = session_admit(&sess, "tcpretrans", &o.timing, &o.target, &o.capture)))
		goto out;
	ret = EXIT_RUNTIME;
	if (capture_begin(&cap, &o.capture, "tcpretrans", &o.target))
		goto out;
	capture_streams(cap, o.output.json, false, &streams);
	if (!loader_init(o.output.verbose) ||
	    !feature_require(FEATURE_RINGBUF, "retransmissions as they happen; Linux 5.8+"))
		goto out;
	skel = tcpretrans_bpf__open();
	if (!skel) {
		warn("opening the BPF object");
		goto out;
	}
	nhooks = hooks_choose(skel, &o, hooks);
	if (configure(skel, &o) || loader_prepare_hooks(hooks, nhooks) ||
	    loader_load(skel->skeleton) ||
	    filter_populate(skel->maps.filter_ids, &skel->rodata->filter_cfg, &o.target))
		goto out;
	if (o.report.drops && !(sym = symbolizer_new(NULL))) {
		warn("setting up the symbolizer");
		goto out;
	}
	tcpr_report_init(&report, &streams, &o.report, sym, bpf_map__fd(skel->maps.stacks));
	run = (struct tcpr_run){ .report = &report,
				 .target = &o.target,
				 .filtered = skel->rodata->tcpr_cfg.filtered };
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &run, NULL);
	if (!rb) {
		warn("setting up the ring buffer");
		goto free_report;
	}
	if (loader_attach_hooks(hooks, nhooks))
		goto detach;
	/* after attaching: a listener made meanwhile is noted by BPF, or here, or both */
	listeners_note(&run.owners, bpf_map__fd(skel->maps.flow_owners), target_wants, &o.target);
	if (session_begin(&sess, &o.timing, &o.target, rb, 0, skel->obj))
		goto detach;
	announce(&o);

	while ((wake = session_wait(&sess)) != SESSION_END) {
		if (wake == SESSION_INTERVAL)
			tcpr_report_interval(&report, session_next_interval(&sess));
	}
	facts.duration_ns = monotonic_ns() - sess.start_ns;
	facts.intervals = o.timing.interval_ns;
	facts.interval_ns = monotonic_ns() - sess.interval_start_ns;
	facts.end_reason = sess.end_reason;
	facts.session = &sess;
	facts.owner_unknown = run.owner_unknown;
	facts.unattributed = run.unattributed + skel->bss->unattributed_drops;
	losses_read(skel->maps.losses, &facts.losses);
	facts.losses.recursion_misses = loader_recursion_misses(hooks, nhooks);
	tcpr_report_summary(&report, &facts);
	ret = capture_end(cap, sess.end_reason) ? EXIT_RUNTIME : 0;
	cap = NULL;
	session_end(&sess);
detach:
	loader_detach_hooks(hooks, nhooks);
free_report:
	tcpr_report_free(&report);
out:
	capture_abort(cap);
	ret = session_close(&sess, &facts.losses, ret);
	capture_opts_free(&o.capture);
	ring_buffer__free(rb);
	symbolizer_free(sym);
	socket_owners_free(&run.owners);
	tcpretrans_bpf__destroy(skel);
	kernel_btf_free();
	target_opts_free(&o.target);
	return ret;
}
