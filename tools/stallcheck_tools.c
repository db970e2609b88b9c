// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * For each stallkit tool, the hook flavour it would use here, or why it cannot run.  The
 * choice is the loader's (loader_prepare_hooks): tp_btf when the kernel allows it and has the
 * tracepoint's btf_trace_<name> type, else raw_tp, else the classic tracepoint for the tools
 * that have a classic entry point.  Planned tools are listed with what they will need, so the
 * answer is useful before they exist.
 */
#include <stdio.h>
#include <string.h>
#include "cpu_clock.h"
#include "kernel_btf.h"
#include "stallcheck.h"

#define NEEDS(f) (1U << (f))

struct tool_spec {
	const char *name;
	bool planned;
	const char *hooks[TOOL_MAX_HOOKS][2]; /* category, name */
	bool classic;			      /* has a classic tracepoint entry point */
	unsigned int needs;		      /* NEEDS(FEATURE_...): fails to load without */
	const char *uprobe_target;
	const char *perf_event; /* the perf event it samples with, or NULL */
	const char *option;
	enum feature option_feature;
};

static const struct tool_spec specs[STALLCHECK_TOOLS] = {
	/* The events ring buffer and the arguments' task storage are in the object whether or
	 * not --min is given. */
	{ .name = "syslat",
	  .hooks = { { "raw_syscalls", "sys_enter" }, { "raw_syscalls", "sys_exit" } },
	  .needs = NEEDS(FEATURE_RINGBUF) | NEEDS(FEATURE_TASK_STORAGE) },
	/* New processes are announced in a ring buffer; with tp_btf, each thread's block start
	 * lives in task storage (raw_tp falls back to a hash) */
	{ .name = "offcputime",
	  .hooks = { { "sched", "sched_switch" } },
	  .needs = NEEDS(FEATURE_RINGBUF) },
	/* a CPU-clock perf event on each CPU; its object holds offcputime's machinery (task
	 * storage), whose sched_switch program runs with --wall (tp_btf only) */
	{ .name = "profile",
	  .needs = NEEDS(FEATURE_RINGBUF) | NEEDS(FEATURE_TASK_STORAGE),
	  .perf_event = "the CPU clock",
	  .option = "--wall",
	  .option_feature = FEATURE_TP_BTF },
	/* libc's resolver functions (uprobes), sched_switch for the blocked time; the DNS
	 * messages of other resolvers come from cgroup socket-buffer programs (cgroup v2) */
	{ .name = "dnsblock",
	  .hooks = { { "sched", "sched_switch" } },
	  .needs = NEEDS(FEATURE_RINGBUF),
	  .uprobe_target = "getaddrinfo in libc" },
	/* retransmissions, and drops with --drops; the socket owners also come from
	 * sock:sock_send_length and sock_recv_length where the kernel has them (6.4+), else
	 * from /proc */
	{ .name = "tcpretrans",
	  .hooks = { { "tcp", "tcp_retransmit_skb" }, { "tcp", "tcp_retransmit_synack" },
		     { "sock", "inet_sock_set_state" }, { "skb", "kfree_skb" } },
	  .classic = true,
	  .needs = NEEDS(FEATURE_RINGBUF) },
};

/*
 * With kernel BTF every tracepoint has a btf_trace_<name> typedef, so a missing one means the
 * tracepoint itself is missing.  Without BTF nothing can be said before attaching: assume it
 * is there, as the loader would.
 */
static bool tracepoint_exists(const char *name, bool *typed)
{
	*typed = kernel_tracepoint_args(name) >= 0;
	return *typed || !kernel_btf_available();
}

static void choose_flavour(struct hook_check *hc, bool classic)
{
	bool typed;

	if (!tracepoint_exists(hc->name, &typed)) {
		hc->flavour = HOOK_NONE;
		snprintf(hc->why, sizeof(hc->why),
			 "tracepoint %s:%s is not in this kernel (its BTF has no btf_trace_%s)",
			 hc->category, hc->name, hc->name);
		return;
	}
	if (typed && feature_available(FEATURE_TP_BTF)) {
		hc->flavour = HOOK_TP_BTF;
		return;
	}
	if (feature_available(FEATURE_RAW_TP)) {
		hc->flavour = HOOK_RAW_TP;
		snprintf(hc->why, sizeof(hc->why), "tp_btf: %s",
			 kernel_btf_available() ? feature_why_not(FEATURE_TP_BTF) :
						  "no kernel BTF to read");
		return;
	}
	if (classic && feature_available(FEATURE_TRACEPOINT)) {
		hc->flavour = HOOK_TRACEPOINT;
		snprintf(hc->why, sizeof(hc->why), "raw_tp: %s", feature_why_not(FEATURE_RAW_TP));
		return;
	}
	hc->flavour = HOOK_NONE;
	snprintf(hc->why, sizeof(hc->why), "raw_tp: %s; tracepoint: %s",
		 feature_why_not(FEATURE_RAW_TP),
		 classic ? feature_why_not(FEATURE_TRACEPOINT) : "the tool has no classic hook");
}

/* The first reason the tool cannot run, or "" */
static void check_needs(struct tool_check *t, const struct tool_spec *s, const struct libc_facts *l)
{
	for (enum feature f = 0; f < FEATURE_COUNT; f++) {
		if ((s->needs & NEEDS(f)) && !feature_available(f)) {
			snprintf(t->why, sizeof(t->why), "%s: %s", feature_name(f),
				 feature_why_not(f));
			return;
		}
	}
	if (s->perf_event && !cpu_clock_available(t->why, sizeof(t->why)))
		return;
	if (s->uprobe_target && !feature_available(FEATURE_UPROBE)) {
		snprintf(t->why, sizeof(t->why), "uprobe: %s", feature_why_not(FEATURE_UPROBE));
		return;
	}
	if (s->uprobe_target && !l->found) {
		snprintf(t->why, sizeof(t->why), "libc: %s", l->why);
		return;
	}
	for (unsigned int i = 0; i < t->nhooks; i++) {
		if (t->hooks[i].flavour == HOOK_NONE) {
			snprintf(t->why, sizeof(t->why), "%s", t->hooks[i].why);
			return;
		}
	}
}

void tools_collect(struct tool_check *tools, const struct libc_facts *l)
{
	for (size_t i = 0; i < STALLCHECK_TOOLS; i++) {
		const struct tool_spec *s = &specs[i];
		struct tool_check *t = &tools[i];

		memset(t, 0, sizeof(*t));
		t->name = s->name;
		t->planned = s->planned;
		t->uprobe_target = s->uprobe_target;
		t->perf_event = s->perf_event;
		t->option = s->option;
		t->option_feature = s->option_feature;
		for (; t->nhooks < TOOL_MAX_HOOKS && s->hooks[t->nhooks][0]; t->nhooks++) {
			struct hook_check *hc = &t->hooks[t->nhooks];

			hc->category = s->hooks[t->nhooks][0];
			hc->name = s->hooks[t->nhooks][1];
			choose_flavour(hc, s->classic);
		}
		check_needs(t, s, l);
		t->runs = !t->why[0];
		t->option_works = t->runs && s->option && feature_available(s->option_feature);
	}
}
