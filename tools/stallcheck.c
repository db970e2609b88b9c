// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallcheck: what will work on this host.  The first question of any investigation, answered
 * by real trial loads of tiny BPF programs (the loader's feature probes), the kernel's BTF and
 * a look at the files that matter, then one line per item.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "kernel_btf.h"
#include "loader.h"
#include "options.h"
#include "parse.h"
#include "privileges.h"
#include "stallcheck.h"

struct stallcheck_opts {
	struct output_opts output;
	pid_t pid;
};

static const char doc[] =
	"Report what stallkit can use on this host: kernel version, BTF, lockdown, tracefs, "
	"cgroup v2, BPF stats, the BPF program and map types the kernel really accepts (each "
	"loaded and attached for real), the caller's capabilities, whether libc keeps frame "
	"pointers, unwind information and debug files, and for each stallkit tool the hook "
	"flavour it will use "
	"or why it cannot run, and the capabilities it lacks with what that costs.\v"
	"Needs CAP_BPF and CAP_PERFMON (or root) to load the test programs: installed, it has "
	"the tools' file capabilities, so a member of group stallkit runs it as the tools run. "
	"What it has is what the tools get; CAP_SYSLOG names kernel frames, CAP_SYS_PTRACE and "
	"CAP_DAC_READ_SEARCH reach other users' processes, CAP_CHECKPOINT_RESTORE their deleted "
	"binaries, CAP_SYS_ADMIN turns BPF stats on and lets dnsblock create uprobes. "
	"It changes nothing on the host: it mounts nothing and writes no sysctl.\n\n"
	"Exit status: 0 when the report was printed, even if features are missing; 1 when "
	"BPF cannot be probed (no privileges); 2 on a usage error.\n\n"
	"Examples:\n"
	"  stallcheck          the report, as text\n"
	"  stallcheck --json   the same, as one JSON document\n"
	"  stallcheck -v       also libbpf's warnings from the probes\n"
	"  stallcheck -p 1234  also whether process 1234's stacks unwind through its binaries\n";

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0,
	  "Also whether user stacks unwind through each binary PID runs code from", 1 },
	{},
};

static error_t parse_option(int key, char *arg, struct argp_state *state)
{
	struct stallcheck_opts *o = state->input;
	uint64_t v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->output;
		break;
	case 'p':
		if (parse_u64(arg, &v) || !v || v > INT32_MAX)
			argp_error(state, "invalid PID '%s'", arg);
		if (kill((pid_t)v, 0) && errno == ESRCH)
			argp_error(state, "no process %s", arg);
		o->pid = v;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &output_argp, 0, "Output:", 1 },
	{},
};

static const struct argp argp = {
	options, parse_option, NULL, doc, children, NULL, NULL,
};

int main(int argc, char **argv)
{
	struct stallcheck_opts o = {};
	struct stallcheck *c;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (!loader_init(o.output.verbose))
		return EXIT_RUNTIME;

	c = calloc(1, sizeof(*c)); /* a few paths of PATH_MAX: not for the stack */
	if (!c) {
		perror("stallcheck");
		return EXIT_RUNTIME;
	}
	host_collect(&c->host);
	/* every probe once, before any output, so libbpf's -v log does not cut into the report */
	for (enum feature f = 0; f < FEATURE_COUNT; f++)
		feature_available(f);
	/* the BPF stats and uprobe probes were its last use: not kept while ELF files are read */
	if (privileges_drop(CAP_SYS_ADMIN)) {
		perror("stallcheck: giving up CAP_SYS_ADMIN");
		free(c);
		return EXIT_RUNTIME;
	}
	libc_collect(&c->libc);
	if (o.pid)
		process_collect(&c->process, o.pid);
	tools_collect(c->tools, &c->libc);
	kernel_btf_free();

	if (o.output.json)
		report_json(stdout, c);
	else
		report_text(stdout, c);
	free(c);
	return fflush(stdout) ? EXIT_RUNTIME : 0;
}
